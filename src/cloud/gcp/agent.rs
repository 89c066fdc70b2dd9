//! The operator's name on every GCP request (`User-Agent: quota-operator/0.1.0`, as Cloud Audit
//! Logs show it). The Google clients take a user agent per request only, so it rides with the
//! credentials' headers, which every request of every client built with them carries.

use google_cloud_auth::{
    credentials::{CacheableResource, Credentials, CredentialsProvider},
    errors::CredentialsError,
};
use http::{Extensions, HeaderMap, HeaderValue, header::USER_AGENT};

use crate::cloud::permissions::Client;

/// `credentials`, adding the user agent of the client this process calls as.
pub fn named(credentials: Credentials) -> Credentials {
    let agent =
        HeaderValue::from_str(&Client::current().user_agent()).expect("the user agent is ASCII");
    Credentials::from(Named {
        inner: credentials,
        agent,
    })
}

#[derive(Debug)]
struct Named {
    inner: Credentials,
    agent: HeaderValue,
}

impl CredentialsProvider for Named {
    async fn headers(
        &self,
        extensions: Extensions,
    ) -> Result<CacheableResource<HeaderMap>, CredentialsError> {
        Ok(match self.inner.headers(extensions).await? {
            CacheableResource::New {
                entity_tag,
                mut data,
            } => {
                data.insert(USER_AGENT, self.agent.clone());
                CacheableResource::New { entity_tag, data }
            }
            CacheableResource::NotModified => CacheableResource::NotModified,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        self.inner.universe_domain().await
    }
}
