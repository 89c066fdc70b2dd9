//! `deploy/iam/README.md`: the commands that install the generated files, and one table row per
//! call of [`CALLS`](crate::cloud::permissions::CALLS), so the prose cannot drift from the policies either.

use std::fmt::Write as _;

use crate::cloud::permissions::{Call, Client, Cloud, Feature, Seen, of};

pub fn render() -> String {
    let mut out = String::from(INTRO);
    out.push_str(AWS);
    table(&mut out, Cloud::Aws);
    out.push_str(GCP);
    table(&mut out, Cloud::Gcp);
    out.push_str(FEATURES_HEAD);
    for f in FEATURES {
        let _ = writeln!(out, "| {} | {} |", f.sid(), without(f));
    }
    let _ = write!(
        out,
        "\nThe operator names itself to both clouds: `{}` (the AWS SDK's app name in CloudTrail's \
         `userAgent`, the GCP user agent in Cloud Audit Logs); `plan --live` as `{}`, \
         `explain --live` as `{}`.\n",
        Client::Operator.name(),
        Client::Plan.name(),
        Client::Explain.name()
    );
    out
}

fn table(out: &mut String, cloud: Cloud) {
    out.push_str(match cloud {
        Cloud::Aws => "\n| Action | Feature | plan --live | Why | Test |\n|---|---|---|---|---|\n",
        Cloud::Gcp => {
            "\n| Method | Permission | Feature | plan --live | Predefined role | Why | Test |\n\
             |---|---|---|---|---|---|---|\n"
        }
    });
    for c in of(cloud) {
        let feature = c.feature;
        let plan = if c.plan { "yes" } else { "no" };
        let why = c.why.replace('|', "\\|");
        let _ = match cloud {
            Cloud::Aws => writeln!(
                out,
                "| `{}` | {} | {plan} | {why} | {} |",
                c.permission,
                feature.sid(),
                seen(c)
            ),
            Cloud::Gcp => writeln!(
                out,
                "| {} | `{}` | {} | {plan} | `{}` | {why} | {} |",
                c.method,
                c.permission,
                feature.sid(),
                c.role.unwrap_or("-"),
                seen(c)
            ),
        };
    }
}

const FEATURES: [Feature; 9] = [
    Feature::Accounts,
    Feature::Regions,
    Feature::Quotas,
    Feature::Requests,
    Feature::Usage,
    Feature::Capacity,
    Feature::AutoAdjuster,
    Feature::Templates,
    Feature::SupportCases,
];

/// What happens when a feature's permissions are left out.
fn without(f: Feature) -> &'static str {
    match f {
        Feature::Accounts => {
            "`sts:AssumeRole` only matters for CloudAccounts with `spec.aws.roleArn`; leave it \
             out when every account is the operator's own"
        }
        Feature::Regions => {
            "regions are checked by their shape only; a region the account lacks fails later, \
             with the cloud's answer"
        }
        Feature::Quotas => "required: nothing works without reading quotas",
        Feature::Requests => {
            "required for the operator; `plan --live` needs only the history (AWS) or the \
             preference listing (GCP)"
        }
        Feature::Usage => {
            "objects with `headroom` get no usage (their condition says what the cloud \
             answered); everything else works"
        }
        Feature::Capacity => "objects with `capacity` are Blocked with the cloud's refusal",
        Feature::AutoAdjuster => {
            "the cloud's own adjuster is shown as unknown; requests it made are still adopted"
        }
        Feature::Templates => {
            "only for a CloudAccount with `spec.aws.quotaTemplate` (the Organizations management \
             account): its `status.template` shows AWS's AccessDeniedException naming the \
             action, and its QuotaRequirements show Error; every other account works"
        }
        Feature::SupportCases => {
            "optional: a request's support case is not read here; its status says to answer \
             it in the Support Center console (as it does for an account without Business or \
             Enterprise support)"
        }
    }
}

const INTRO: &str = "\
# IAM for quota-operator

Generated from `src/cloud/permissions.rs` (one entry per cloud API call the operator makes):
regenerate with `QO_UPDATE_IAM=1 cargo test --test iam_files`, do not edit. The test suite
checks the list against what the operator really calls: the simulator logs every call
(`QUOTA_SIM_CALL_LOG`), and `tools/test.sh` fails if the operator calls an action the policy
lacks, or the policy grants one no test calls (unless the table says why the simulator cannot
see it).

| File | What |
|---|---|
| `aws/operator-policy.json` | the operator's policy (every feature) |
| `aws/plan-readonly-policy.json` | `quota-operator plan --live` in CI: reads only |
| `aws/trust-irsa.json` | the operator's role, assumed through the cluster's OIDC provider (IRSA) |
| `aws/trust-pod-identity.json` | the same role through EKS Pod Identity |
| `aws/trust-cross-account.json` | the role a CloudAccount's `spec.aws.roleArn` names, in another account |
| `gcp/custom-role.yaml` | the operator's custom role |
| `gcp/plan-readonly-role.yaml` | `plan --live` in CI: reads only |

Placeholders: `ACCOUNT_ID` (the account the operator's role is in), `OIDC_PROVIDER` (the
cluster's issuer without `https://`), `EXTERNAL_ID` (the CloudAccount's `spec.aws.externalId`),
`PROJECT_ID`, `CLUSTER`. The chart's ServiceAccount is `quota-operator` in namespace
`quota-operator`; change the trust policies if yours differ.
";

const AWS: &str = r#"
## AWS

The operator's role, with IRSA:

```sh
ACCOUNT_ID=$(aws sts get-caller-identity --query Account --output text)
OIDC_PROVIDER=$(aws eks describe-cluster --name CLUSTER \
  --query cluster.identity.oidc.issuer --output text | sed 's|^https://||')
aws iam create-policy --policy-name quota-operator \
  --policy-document file://deploy/iam/aws/operator-policy.json
sed -e "s|ACCOUNT_ID|$ACCOUNT_ID|g" -e "s|OIDC_PROVIDER|$OIDC_PROVIDER|g" \
  deploy/iam/aws/trust-irsa.json > trust.json
aws iam create-role --role-name quota-operator --assume-role-policy-document file://trust.json
aws iam attach-role-policy --role-name quota-operator \
  --policy-arn "arn:aws:iam::$ACCOUNT_ID:policy/quota-operator"
# Helm: --set serviceAccount.annotations."eks\.amazonaws\.com/role-arn"=arn:aws:iam::$ACCOUNT_ID:role/quota-operator
```

Or with EKS Pod Identity (no annotation):

```sh
aws iam create-role --role-name quota-operator \
  --assume-role-policy-document file://deploy/iam/aws/trust-pod-identity.json
aws iam attach-role-policy --role-name quota-operator \
  --policy-arn "arn:aws:iam::$ACCOUNT_ID:policy/quota-operator"
aws eks create-pod-identity-association --cluster-name CLUSTER \
  --namespace quota-operator --service-account quota-operator \
  --role-arn "arn:aws:iam::$ACCOUNT_ID:role/quota-operator"
```

Other accounts (a CloudAccount with `spec.aws.roleArn: arn:aws:iam::OTHER:role/quota-operator`):
in each, a role the operator's role may assume, with the same policy. The trust policy requires
the CloudAccount's `spec.aws.externalId`; delete its `Condition` if you set none. The operator's
policy allows `sts:AssumeRole` on `arn:aws:iam::*:role/quota-operator`: replace `*` with the
account ids it manages.

```sh
# in the managed account; ACCOUNT_ID is the operator's account
sed -e "s|ACCOUNT_ID|$ACCOUNT_ID|g" -e "s|EXTERNAL_ID|$EXTERNAL_ID|g" \
  deploy/iam/aws/trust-cross-account.json > trust.json
aws iam create-role --role-name quota-operator --assume-role-policy-document file://trust.json
aws iam create-policy --policy-name quota-operator \
  --policy-document file://deploy/iam/aws/operator-policy.json
aws iam attach-role-policy --role-name quota-operator \
  --policy-arn "arn:aws:iam::$(aws sts get-caller-identity --query Account --output text):policy/quota-operator"
```

`plan --live` in CI: attach `plan-readonly-policy.json` to the CI job's role (and, for other
accounts, to roles it may assume):

```sh
aws iam create-policy --policy-name quota-operator-plan \
  --policy-document file://deploy/iam/aws/plan-readonly-policy.json
aws iam attach-role-policy --role-name CI_ROLE \
  --policy-arn "arn:aws:iam::$ACCOUNT_ID:policy/quota-operator-plan"
```

Service Quotas, EC2's and CloudWatch's reads take `Resource: "*"` (they have no resource to
scope to); `sts:AssumeRole` and `iam:CreateServiceLinkedRole` are scoped to their roles.
"#;

const GCP: &str = r#"
## GCP

A Google service account for the operator, the custom role in each project it manages, and
Workload Identity for the chart's ServiceAccount (`CLUSTER_PROJECT_ID` is the cluster's
project, often `PROJECT_ID`):

```sh
gcloud services enable cloudquotas.googleapis.com compute.googleapis.com \
  monitoring.googleapis.com --project=PROJECT_ID
gcloud iam service-accounts create quota-operator --project=CLUSTER_PROJECT_ID
gcloud iam roles create quotaOperator --project=PROJECT_ID \
  --file=deploy/iam/gcp/custom-role.yaml
gcloud projects add-iam-policy-binding PROJECT_ID \
  --member=serviceAccount:quota-operator@CLUSTER_PROJECT_ID.iam.gserviceaccount.com \
  --role=projects/PROJECT_ID/roles/quotaOperator
gcloud iam service-accounts add-iam-policy-binding \
  quota-operator@CLUSTER_PROJECT_ID.iam.gserviceaccount.com \
  --role=roles/iam.workloadIdentityUser \
  --member="serviceAccount:CLUSTER_PROJECT_ID.svc.id.goog[quota-operator/quota-operator]"
# Helm: --set serviceAccount.annotations."iam\.gke\.io/gcp-service-account"=quota-operator@CLUSTER_PROJECT_ID.iam.gserviceaccount.com
```

Instead of the custom role, the predefined roles in the table below hold the same permissions
and more (`roles/cloudquotas.admin`, `roles/monitoring.viewer`, `roles/compute.viewer`).
The Quota Adjuster's settings have no permission of their own: reading them takes
`cloudquotas.quotas.get`.

`plan --live` in CI: `gcloud iam roles create quotaOperatorPlan --project=PROJECT_ID
--file=deploy/iam/gcp/plan-readonly-role.yaml`, bound to the CI job's service account.
"#;

const FEATURES_HEAD: &str = "
## What can be left out

| Feature | Without its permissions |
|---|---|
";

/// How the test suite sees the call, for the README.
fn seen(c: &Call) -> String {
    match (c.granted, c.seen) {
        (false, _) => "needs no grant".into(),
        (true, Seen::BySimulator) => "tested".into(),
        (true, Seen::NotBySimulator(why)) => format!("not in the simulator: {why}"),
    }
}
