//! The template as `status.template` of the CloudAccount shows it, written under a field
//! manager of its own (the account status writer owns the rest of the status).

use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::json;

use crate::api::{CloudAccount, TemplateEntryStatus, TemplateStatus};

/// The template writer's field manager.
pub const FIELD_MANAGER: &str = "quota-operator-template";

/// What to say of the association.
pub fn association_message(associated: bool) -> Option<String> {
    (!associated).then(|| {
        "the template is not associated with the organization: new accounts will not get these \
         quotas; run `aws service-quotas associate-service-quota-template` from the management \
         account (the operator never does: it is an organization-wide switch)"
            .to_string()
    })
}

pub fn status(
    associated: Option<bool>,
    message: Option<String>,
    entries: Vec<TemplateEntryStatus>,
) -> TemplateStatus {
    TemplateStatus {
        associated,
        message,
        entries,
    }
}

/// Writes `status.template` when it differs from what the account shows.
pub async fn write(
    client: &kube::Client,
    account: &CloudAccount,
    template: Option<TemplateStatus>,
) -> Result<(), kube::Error> {
    let shown = account.status.as_ref().and_then(|s| s.template.as_ref());
    if shown == template.as_ref() {
        return Ok(());
    }
    let api: Api<CloudAccount> = Api::all(client.clone());
    let patch = json!({
        "apiVersion": "quota-operator.dev/v1alpha1",
        "kind": "CloudAccount",
        "status": {"template": template},
    });
    api.patch_status(
        &account.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    tracing::info!(account = %account.name_any(), "quota template status updated");
    Ok(())
}
