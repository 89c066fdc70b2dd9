//! `/healthz` and `/readyz` for the kubelet: alive while the process serves, ready once the
//! controller's caches hold the cluster (before that, status it writes could be based on a
//! partial view).
//!
//! A cloud the operator has no credentials for does not make it unready: one cloud's accounts
//! may be all a cluster has (a GCP-only install has no AWS credentials, rightly), and an unready
//! pod would also leave the metrics Service, silencing the alerts that say what is wrong. It is
//! said instead: in `/readyz`'s body, in a warning at start, and as `CredentialsFailed` on every
//! CloudAccount and QuotaRequirement of that cloud.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{Router, http::StatusCode, routing::get};

/// Set by the controller once its stores are ready; read by `/readyz`, with what it should say
/// beside "ready" (a cloud without credentials).
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    ready: Arc<AtomicBool>,
    warnings: Arc<Mutex<Vec<String>>>,
}

impl Readiness {
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Relaxed);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Something `/readyz` says while ready (it stays ready).
    pub fn warn(&self, warning: String) {
        self.warnings.lock().expect("readiness").push(warning);
    }

    /// `/readyz`'s answer.
    pub fn answer(&self) -> (StatusCode, String) {
        if !self.is_ready() {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "caches not synced yet".into(),
            );
        }
        let warnings = self.warnings.lock().expect("readiness");
        let mut body = String::from("ready");
        for w in warnings.iter() {
            body.push_str("\nwarning: ");
            body.push_str(w);
        }
        (StatusCode::OK, body)
    }
}

pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/readyz", get(move || async move { readiness.answer() }))
}

/// OpenMetrics when the scraper asks for it (Prometheus does), else the classic text format.
async fn metrics(headers: axum::http::HeaderMap) -> impl axum::response::IntoResponse {
    let wants_openmetrics = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let (content_type, body) = if wants_openmetrics {
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            crate::metrics::render_openmetrics(),
        )
    } else {
        (
            "text/plain; version=0.0.4; charset=utf-8",
            crate::metrics::render_text(),
        )
    };
    ([(axum::http::header::CONTENT_TYPE, content_type)], body)
}

/// Serves the probes on `addr` until the process ends; returns the bound address.
pub async fn serve(addr: SocketAddr, readiness: Readiness) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(readiness)).await {
            tracing::error!(error = %e, "probe server stopped");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn status_line(addr: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response.lines().next().unwrap_or_default().to_string()
    }

    #[tokio::test]
    async fn ready_only_after_the_controller_says_so() {
        let readiness = Readiness::default();
        let addr = serve("127.0.0.1:0".parse().unwrap(), readiness.clone())
            .await
            .unwrap();
        assert!(status_line(addr, "/healthz").await.contains("200"));
        assert!(status_line(addr, "/readyz").await.contains("503"));
        readiness.set_ready();
        assert!(status_line(addr, "/readyz").await.contains("200"));
    }

    #[test]
    fn missing_credentials_are_said_not_made_unready() {
        let readiness = Readiness::default();
        readiness.set_ready();
        assert_eq!(readiness.answer(), (StatusCode::OK, "ready".into()));
        readiness.warn("no AWS credentials found: ...".into());
        assert_eq!(
            readiness.answer(),
            (
                StatusCode::OK,
                "ready\nwarning: no AWS credentials found: ...".into()
            )
        );
    }
}
