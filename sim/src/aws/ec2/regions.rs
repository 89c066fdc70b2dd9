//! Simulated EC2 DescribeRegions on EC2's query protocol (`Action=DescribeRegions`, optional
//! `RegionName.N`, `Filter.N.Name`/`Filter.N.Value.M` on `region-name` or `opt-in-status`,
//! `AllRegions`, `DryRun`), answered as EC2 does: a `regionInfo` set of `regionName`,
//! `regionEndpoint` and `optInStatus`, in one page (EC2 does not page it). A name EC2 does not
//! know answers InvalidParameterValue `Invalid region: [name]`.

use std::collections::BTreeMap;

use super::responses::dry_run;
use super::responses::{NS, request_id};
use crate::aws::{error::AwsError, model::regions::RegionDef, xml::escape};

/// DescribeRegions: the XML body of the answer.
pub fn describe_regions(
    regions: &[RegionDef],
    form: &[(String, String)],
) -> Result<String, AwsError> {
    let req = Request::parse(form)?;
    dry_run(req.dry_run)?;
    let unknown: Vec<&str> = (req.names.iter())
        .filter(|n| !regions.iter().any(|r| &r.name == *n))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let msg = format!("Invalid region: [{}]", unknown.join(", "));
        return Err(AwsError::new("InvalidParameterValue", msg));
    }
    let items: String = (regions.iter())
        .filter(|r| req.names.is_empty() || req.names.contains(&r.name))
        .filter(|r| req.matches(r))
        .map(item)
        .collect();
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <DescribeRegionsResponse xmlns=\"{NS}\">\n  <requestId>{}</requestId>\n  \
         <regionInfo>\n{items}  </regionInfo>\n</DescribeRegionsResponse>\n",
        request_id()
    ))
}

fn item(r: &RegionDef) -> String {
    let name = escape(&r.name);
    format!(
        "    <item>\n      <regionName>{name}</regionName>\n      \
         <regionEndpoint>ec2.{name}.amazonaws.com</regionEndpoint>\n      \
         <optInStatus>{}</optInStatus>\n    </item>\n",
        r.opt_in_status
    )
}

/// What a DescribeRegions form asks for.
#[derive(Debug, Default)]
struct Request {
    names: Vec<String>,
    /// (filter name, values): a region must match one value of each.
    filters: Vec<(String, Vec<String>)>,
    dry_run: bool,
}

impl Request {
    fn parse(form: &[(String, String)]) -> Result<Self, AwsError> {
        let mut req = Request::default();
        let mut filters: BTreeMap<u32, (String, Vec<String>)> = BTreeMap::new();
        let number = |n: &str| n.parse::<u32>().unwrap_or(0);
        for (k, v) in form {
            match k.split('.').collect::<Vec<_>>()[..] {
                ["RegionName", _] => req.names.push(v.clone()),
                ["Filter", n, "Name"] => filters.entry(number(n)).or_default().0 = v.clone(),
                ["Filter", n, "Value", _] => {
                    filters.entry(number(n)).or_default().1.push(v.clone())
                }
                ["DryRun"] => req.dry_run = v.eq_ignore_ascii_case("true"),
                // Every region listed is enabled: AllRegions adds none.
                _ => {}
            }
        }
        for (name, values) in filters.into_values() {
            if !["region-name", "opt-in-status", "endpoint"].contains(&name.as_str()) {
                return Err(AwsError::new(
                    "InvalidParameterValue",
                    format!("The filter '{name}' is invalid"),
                ));
            }
            req.filters.push((name, values));
        }
        Ok(req)
    }

    fn matches(&self, r: &RegionDef) -> bool {
        let endpoint = format!("ec2.{}.amazonaws.com", r.name);
        self.filters.iter().all(|(name, values)| {
            let have = match name.as_str() {
                "region-name" => r.name.as_str(),
                "opt-in-status" => r.opt_in_status,
                _ => endpoint.as_str(),
            };
            values.iter().any(|v| v == have)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<RegionDef> {
        ["eu-west-1", "us-east-1"]
            .map(|name| RegionDef {
                name: name.into(),
                opt_in_status: "opt-in-not-required",
            })
            .to_vec()
    }

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let base = [("Action", "DescribeRegions"), ("Version", "2016-11-15")];
        (base.iter().chain(pairs))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_region_with_its_endpoint_and_opt_in_status() {
        let xml = describe_regions(&regions(), &form(&[])).unwrap();
        assert!(xml.contains("<regionName>us-east-1</regionName>"), "{xml}");
        assert!(xml.contains("<regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint>"));
        assert!(xml.contains("<optInStatus>opt-in-not-required</optInStatus>"));
        assert_eq!(xml.matches("<item>").count(), 2);
    }

    #[test]
    fn names_and_filters_narrow_the_list_and_an_unknown_name_is_refused() {
        let xml = describe_regions(&regions(), &form(&[("RegionName.1", "eu-west-1")])).unwrap();
        assert_eq!(xml.matches("<item>").count(), 1, "{xml}");
        let f = form(&[
            ("Filter.1.Name", "region-name"),
            ("Filter.1.Value.1", "us-east-1"),
        ]);
        let xml = describe_regions(&regions(), &f).unwrap();
        assert!(
            xml.contains("us-east-1") && !xml.contains("eu-west-1"),
            "{xml}"
        );
        let e = describe_regions(&regions(), &form(&[("RegionName.1", "us-east-9")])).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("InvalidParameterValue", "Invalid region: [us-east-9]")
        );
        let f = form(&[("Filter.1.Name", "zone-name"), ("Filter.1.Value.1", "x")]);
        assert_eq!(
            describe_regions(&regions(), &f).unwrap_err().code,
            "InvalidParameterValue"
        );
    }
}
