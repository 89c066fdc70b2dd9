//! The one QuotaPreference for a quota and its dimensions. Cloud Quotas keeps at most one per
//! (service, quota id, dimensions) and refuses a second under another id, so the operator finds
//! the existing one first, whoever made it (the console, gcloud, Terraform, the Quota Adjuster)
//! and whatever its state, and updates that one with its etag. Only when there is none does it
//! create its own, under its own id.

use std::collections::HashMap;

use google_cloud_api_cloudquotas_v1::{
    client::CloudQuotas,
    model::{QuotaConfig, QuotaPreference, QuotaSafetyCheck},
};
use google_cloud_gax::error::{Error, rpc::Code};
use jiff::Timestamp;

use super::{convert, marks::Mark};
use crate::cloud::boundary::{CloudError, ErrorKind, FileContext};

/// What a preference is for: the quota and every dimension (the region included unless the
/// quota is global), and the id the operator uses when it has to create one.
pub struct Wanted<'a> {
    pub service: &'a str,
    pub quota_id: &'a str,
    /// Matched exactly: a preference for fewer or more dimensions is another preference.
    pub dimensions: HashMap<String, String>,
    /// [`super::ids::preference_id`] of the above.
    pub own_id: String,
}

impl Wanted<'_> {
    fn is(&self, p: &QuotaPreference) -> bool {
        p.service == self.service && p.quota_id == self.quota_id && p.dimensions == self.dimensions
    }
}

/// One write: the value, what it was raised from, and what goes with it.
pub struct Write<'a> {
    pub value: i64,
    /// The value in force, read just before.
    pub from: i64,
    /// The write lowers the quota (the spec allowed it): Google's 10% safety check is waived.
    pub lowers: bool,
    pub context: &'a FileContext,
}

/// The preferences of one project.
pub struct Preferences {
    pub client: CloudQuotas,
    pub project: String,
}

impl Preferences {
    /// `projects/{project}/locations/global/quotaPreferences/{id}`.
    pub fn name(&self, id: &str) -> String {
        format!(
            "projects/{}/locations/global/quotaPreferences/{id}",
            self.project
        )
    }

    fn parent(&self) -> String {
        format!("projects/{}/locations/global", self.project)
    }

    /// A preference by full name; None when the cloud does not know it.
    pub async fn get(&self, name: &str) -> Result<Option<QuotaPreference>, CloudError> {
        let result = match self
            .client
            .get_quota_preference()
            .set_name(name)
            .send()
            .await
        {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.status().is_some_and(|s| s.code == Code::NotFound) => Ok(None),
            Err(e) => Err(convert::error(e)),
        };
        crate::metrics::cloud_result("gcp", "GetQuotaPreference", &result);
        result
    }

    /// The preference for `w`, under any id and in any state: the operator's own id first (one
    /// read), else a listing narrowed to the service and quota id, matched on every dimension.
    pub async fn find(&self, w: &Wanted<'_>) -> Result<Option<QuotaPreference>, CloudError> {
        if let Some(own) = self.get(&self.name(&w.own_id)).await?
            && w.is(&own)
        {
            return Ok(Some(own));
        }
        // Google documents filters on state, origin and times only; service and quota id are
        // asked for too, to keep pages short, and each result is checked here anyway. Should
        // the API refuse those fields, the whole list is read instead.
        let filter = format!("service=\"{}\" AND quota_id=\"{}\"", w.service, w.quota_id);
        match self.search(w, &filter).await {
            Err(e) if e.kind == ErrorKind::InvalidArgument => {
                tracing::warn!(
                    project = %self.project, %filter, error = %e,
                    "preference filter refused; listing every preference"
                );
                self.search(w, "").await
            }
            found => found,
        }
    }

    async fn search(
        &self,
        w: &Wanted<'_>,
        filter: &str,
    ) -> Result<Option<QuotaPreference>, CloudError> {
        let mut token = String::new();
        loop {
            let page = self
                .client
                .list_quota_preferences()
                .set_parent(self.parent())
                .set_filter(filter)
                .set_page_token(&token)
                .send()
                .await
                .map_err(convert::error);
            crate::metrics::cloud_result("gcp", "ListQuotaPreferences", &page);
            let page = page?;
            if let Some(p) = page.quota_preferences.into_iter().find(|p| w.is(p)) {
                return Ok(Some(p));
            }
            if page.next_page_token.is_empty() {
                return Ok(None);
            }
            token = page.next_page_token;
        }
    }

    /// Writes the value into the preference for `w`: the existing one, updated with its etag,
    /// or the operator's own when there is none. Someone changing it between the read and the
    /// write (ABORTED), or creating one meanwhile (ALREADY_EXISTS), gets one more read.
    pub async fn write(
        &self,
        w: &Wanted<'_>,
        write: &Write<'_>,
    ) -> Result<QuotaPreference, CloudError> {
        let mut retried = false;
        loop {
            let result = match self.find(w).await? {
                Some(existing) => self.update(&existing, write).await,
                None => self.create(w, write).await,
            };
            match result {
                Err(e)
                    if !retried
                        && e.status().is_some_and(|s| {
                            matches!(s.code, Code::Aborted | Code::AlreadyExists)
                        }) =>
                {
                    retried = true;
                }
                other => return other.map_err(convert::error),
            }
        }
    }

    /// PATCH of the value, the operator's mark and (when the spec gives them) justification and
    /// contact email; everything else, someone else's annotations included, is kept.
    async fn update(
        &self,
        existing: &QuotaPreference,
        write: &Write<'_>,
    ) -> Result<QuotaPreference, Error> {
        let theirs = existing
            .quota_config
            .as_ref()
            .map(|c| c.annotations.clone())
            .unwrap_or_default();
        let config = QuotaConfig::new()
            .set_preferred_value(write.value)
            .set_annotations(mark(write).merged_into(&theirs));
        let mut preference = QuotaPreference::new()
            .set_name(&existing.name)
            .set_quota_config(config)
            .set_etag(&existing.etag);
        let mut paths = vec!["quota_config.preferred_value", "quota_config.annotations"];
        if let Some(j) = &write.context.justification {
            preference = preference.set_justification(j);
            paths.push("justification");
        }
        // Input only and required for an increase: sent with every write that has one.
        if let Some(e) = &write.context.contact_email {
            preference = preference.set_contact_email(e);
            paths.push("contact_email");
        }
        let mask = google_cloud_wkt::FieldMask::default().set_paths(paths);
        self.client
            .update_quota_preference()
            .set_quota_preference(preference)
            .set_update_mask(mask)
            .set_ignore_safety_checks(checks(write))
            .send()
            .await
    }

    /// The operator's own preference, by PATCH with allowMissing under its own id.
    async fn create(&self, w: &Wanted<'_>, write: &Write<'_>) -> Result<QuotaPreference, Error> {
        let config = QuotaConfig::new()
            .set_preferred_value(write.value)
            .set_annotations(mark(write).merged_into(&HashMap::new()));
        let context = write.context;
        let preference = QuotaPreference::new()
            .set_name(self.name(&w.own_id))
            .set_service(w.service)
            .set_quota_id(w.quota_id)
            .set_dimensions(w.dimensions.clone())
            .set_quota_config(config)
            .set_justification(context.justification.clone().unwrap_or_default())
            .set_contact_email(context.contact_email.clone().unwrap_or_default());
        let mask = google_cloud_wkt::FieldMask::default().set_paths([
            "quota_config.preferred_value",
            "quota_config.annotations",
            "justification",
            "contact_email",
        ]);
        self.client
            .update_quota_preference()
            .set_quota_preference(preference)
            .set_update_mask(mask)
            .set_allow_missing(true)
            .set_ignore_safety_checks(checks(write))
            .send()
            .await
    }
}

fn mark(write: &Write<'_>) -> Mark {
    Mark {
        from: write.from,
        value: write.value,
        at: Some(Timestamp::now()),
    }
}

/// Google refuses a decrease of more than 10 % below usage unless told to skip that check, which
/// only the CloudAccount's `spec.guardrails.decrease.ignoreSafetyChecks` may ask for: a team's
/// spec alone never turns a safety check off.
fn checks(write: &Write<'_>) -> Vec<QuotaSafetyCheck> {
    if write.lowers && write.context.ignore_safety_checks {
        vec![QuotaSafetyCheck::QuotaDecreasePercentageTooHigh]
    } else {
        vec![]
    }
}
