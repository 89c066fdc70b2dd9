//! SIGTERM, as Kubernetes stops a pod in a rollout, at the moment the operator is most likely to
//! be stopped: before it has listed anything.

use std::time::{Duration, Instant};

use quota_sim::{
    AwsSim, Scenario,
    aws::{Fault, FaultInjection},
};

use crate::{
    harness::TestEnv,
    process::{KEY, OperatorProcess, impersonating},
};

const ACCOUNT: &str = "111111111111";

/// A ServiceAccount RBAC knows nothing of may not list QuotaRequirements, so the controller's
/// first list never completes: the state in which a pod stopped early in its start-up is.
#[tokio::test]
async fn sigterm_before_the_first_list_stops_the_operator_at_once() {
    let env = TestEnv::new("term-early").await;
    let kubeconfig = impersonating(&env.ns, "no-rights");
    let mut op = OperatorProcess::start_with_kubeconfig(
        "op",
        &env.ns,
        "http://127.0.0.1:9",
        &[],
        &kubeconfig,
    );
    // The list was refused, so the controller is up and waiting for it to succeed.
    op.wait_log("is forbidden", Duration::from_secs(30)).await;
    assert!(op.exited().is_none(), "{}", op.log());

    let stopped = Instant::now();
    op.terminate().await;
    let took = stopped.elapsed();
    println!("stopped {:.2}s after SIGTERM", took.as_secs_f64());
    assert!(op.log().contains("quota-operator stopped"), "{}", op.log());
    assert!(took < Duration::from_secs(5), "{took:?}\n{}", op.log());
}

/// A reconcile stuck in a cloud call that does not answer is cut off once the grace period has
/// passed, so the pod stops before Kubernetes has to kill it.
#[tokio::test]
async fn sigterm_while_a_cloud_call_hangs_stops_after_the_grace_period() {
    let yaml = format!(
        "aws:\n  accounts: {{{KEY}: \"{ACCOUNT}\"}}\n  quotas:\n  - {{serviceCode: ec2, quotaCode: L-34B43A08, value: 640}}\n"
    );
    let sim = AwsSim::new(Scenario::from_yaml(&yaml).expect("scenario"))
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim");
    for operation in ["ListServiceQuotas", "GetServiceQuota"] {
        sim.aws()
            .inject_fault(FaultInjection {
                operation: operation.into(),
                fault: Fault::Stall,
                count: None,
                account: None,
                region: None,
                delay: None,
            })
            .expect("stall");
    }
    let env = TestEnv::new("term-hang").await;
    let account = env.aws_account("aws", ACCOUNT).await;
    env.create_spot(&account, &["us-east-1"]).await;
    let mut op = OperatorProcess::start(
        "op",
        &env.ns,
        &sim.endpoint(),
        &["--shutdown-grace-seconds", "2"],
    );
    // The reconcile is in flight, waiting for the quota the simulator holds back.
    let running = "controller_runtime_active_workers{controller=\"quotarequirement\"} 1";
    let mut waited = 0;
    while !op.metrics().await.contains(running) {
        assert!(waited < 300, "no reconcile in flight:\n{}", op.log());
        waited += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let stopped = Instant::now();
    op.terminate().await;
    let took = stopped.elapsed();
    println!("stopped {:.2}s after SIGTERM", took.as_secs_f64());
    let log = op.log();
    assert!(log.contains("shutdown grace period"), "{log}");
    assert!(log.contains("quota-operator stopped"), "{log}");
    assert!(took >= Duration::from_secs(2), "{took:?}\n{log}");
    assert!(took < Duration::from_secs(8), "{took:?}\n{log}");
}
