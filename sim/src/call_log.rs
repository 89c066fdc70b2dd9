//! `QUOTA_SIM_CALL_LOG=<file>`: every simulator in the process appends one line per distinct
//! (caller, cloud, IAM action, method) it served, whatever it answered, so a test can hold the
//! IAM policy the operator ships to what the operator really calls (tests/iam_files.rs). Several
//! processes may share the file: each line is one append (`O_APPEND`), deduplicated per process.
//!
//! The caller names itself: the AWS SDK's app name (`app/<name>` in its user agent), else the
//! first product of the `User-Agent` header (`quota-operator-plan/0.1.0`), else `unnamed`.

use std::{
    collections::HashSet,
    fs::{File, OpenOptions},
    io::Write as _,
    sync::{Mutex, OnceLock},
};

use axum::{extract::Request, http::HeaderMap, middleware::Next, response::Response};

/// The environment variable naming the log file.
pub const ENV: &str = "QUOTA_SIM_CALL_LOG";

tokio::task_local! {
    /// Who sent the request being answered (set around every handler by [`name_caller`]).
    static CALLER: String;
}

/// Middleware: every handler runs knowing who called.
pub async fn name_caller(req: Request, next: Next) -> Response {
    let caller = caller(req.headers());
    CALLER.scope(caller, next.run(req)).await
}

fn caller(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let app = ["x-amz-user-agent", "user-agent"]
        .into_iter()
        .filter_map(header)
        .flat_map(str::split_whitespace)
        .find_map(|token| token.strip_prefix("app/"));
    let product = || {
        header("user-agent")
            .and_then(|ua| ua.split_whitespace().next())
            .map(|p| p.split('/').next().unwrap_or(p))
    };
    app.or_else(product)
        .filter(|name| !name.is_empty())
        .unwrap_or("unnamed")
        .to_string()
}

struct Log {
    file: File,
    seen: Mutex<HashSet<String>>,
}

fn log() -> Option<&'static Log> {
    static LOG: OnceLock<Option<Log>> = OnceLock::new();
    LOG.get_or_init(|| {
        let path = std::env::var_os(ENV).filter(|p| !p.is_empty())?;
        match OpenOptions::new().create(true).append(true).open(&path) {
            Ok(file) => Some(Log {
                file,
                seen: Mutex::default(),
            }),
            Err(e) => {
                // Loud: a log that silently stays empty would fail the comparison with the
                // wrong reason (every action "never called").
                eprintln!("quota-sim: cannot append to {ENV}={}: {e}", path.display());
                None
            }
        }
    })
    .as_ref()
}

/// Notes that the current caller called `method`, which needs `action` (`servicequotas:GetServiceQuota`,
/// `cloudquotas.quotas.get`), on `cloud`. Nothing is done unless [`ENV`] is set.
pub fn record(cloud: &str, action: &str, method: &str) {
    let Some(log) = log() else {
        return;
    };
    let caller = CALLER
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "unnamed".to_string());
    let line = format!("{caller}\t{cloud}\t{action}\t{method}\n");
    let mut seen = log.seen.lock().unwrap_or_else(|e| e.into_inner());
    if seen.insert(line.clone())
        && let Err(e) = (&log.file).write_all(line.as_bytes())
    {
        eprintln!("quota-sim: writing {ENV}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_caller_is_the_sdk_app_name_else_the_user_agent_product() {
        let aws = headers(&[(
            "x-amz-user-agent",
            "aws-sdk-rust/1.3 ua/2.1 api/servicequotas/1.9 os/linux lang/rust/1.94 app/quota-operator",
        )]);
        assert_eq!(caller(&aws), "quota-operator");
        let gcp = headers(&[("user-agent", "quota-operator-plan/0.1.0")]);
        assert_eq!(caller(&gcp), "quota-operator-plan");
        let bare = headers(&[("x-amz-user-agent", "aws-sdk-rust/1.3 os/linux")]);
        assert_eq!(caller(&bare), "unnamed");
        assert_eq!(caller(&HeaderMap::new()), "unnamed");
    }
}
