//! GetMetricData's input and output, whatever the encoding: the JSON shapes of botocore's
//! model (PascalCase), which the CBOR body is first turned into, timestamps as epoch seconds.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, de};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataInput {
    #[serde(default)]
    pub metric_data_queries: Option<Vec<Query>>,
    #[serde(default, deserialize_with = "timestamp")]
    pub start_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "timestamp")]
    pub end_time: Option<Timestamp>,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub scan_by: Option<String>,
    #[serde(default)]
    pub max_datapoints: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Query {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub metric_stat: Option<MetricStat>,
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub return_data: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    #[serde(default)]
    pub metric: Metric,
    #[serde(default)]
    pub period: i64,
    #[serde(default)]
    pub stat: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

/// One query's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    pub id: String,
    pub label: String,
    pub timestamps: Vec<Timestamp>,
    pub values: Vec<f64>,
    /// `Complete`, or `PartialData` while later pages hold more of its points.
    pub status: &'static str,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    pub results: Vec<QueryResult>,
    pub next_token: Option<String>,
}

/// Epoch seconds (botocore and the CBOR tag 1 content) or an RFC 3339 string.
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Option<Timestamp>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a timestamp in epoch seconds")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            let ms = (v * 1000.0).round() as i64;
            Timestamp::from_millisecond(ms).map(Some).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Timestamp::from_second(v).map(Some).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.visit_i64(i64::try_from(v).map_err(E::custom)?)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.parse().map(Some).map_err(E::custom)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}
