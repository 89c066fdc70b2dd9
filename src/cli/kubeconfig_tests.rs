use super::*;

/// Two clusters, two contexts; the current one is `test`.
const TWO_CONTEXTS: &str = "apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}
- name: prod
  cluster: {server: 'https://prod.example:6443', insecure-skip-tls-verify: true}
contexts:
- name: test
  context: {cluster: test, user: someone, namespace: team-test}
- name: prod
  context: {cluster: prod, user: someone, namespace: team-prod}
users:
- name: someone
  user: {token: not-a-secret}
";

fn file() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), TWO_CONTEXTS).unwrap();
    file
}

fn args(path: &Path, context: Option<&str>) -> KubeArgs {
    KubeArgs {
        kubeconfig: Some(path.to_path_buf()),
        context: context.map(str::to_string),
    }
}

#[tokio::test]
async fn the_current_context_is_used_without_context() {
    let file = file();
    let config = config(&args(file.path(), None)).await.unwrap();
    assert_eq!(config.cluster_url.to_string(), "https://127.0.0.1:6443/");
    assert_eq!(config.default_namespace, "team-test");
}

#[tokio::test]
async fn context_picks_its_cluster_and_namespace() {
    let file = file();
    let config = config(&args(file.path(), Some("prod"))).await.unwrap();
    assert_eq!(config.cluster_url.to_string(), "https://prod.example:6443/");
    assert_eq!(config.default_namespace, "team-prod");
}

#[tokio::test]
async fn an_unknown_context_is_refused_naming_it_and_the_file() {
    let file = file();
    let error = config(&args(file.path(), Some("staging")))
        .await
        .expect_err("no such context");
    let message = format!("{error:#}");
    assert!(
        message.contains("context staging") && message.contains(&file.path().display().to_string()),
        "{message}"
    );
}

#[tokio::test]
async fn a_missing_file_is_refused_naming_it() {
    let error = config(&args(Path::new("/nonexistent/kubeconfig"), None))
        .await
        .expect_err("no file");
    assert!(
        format!("{error:#}").contains("--kubeconfig /nonexistent/kubeconfig"),
        "{error:#}"
    );
}
