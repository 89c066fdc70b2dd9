//! Small readers over pasted error text: instance types, regions, ARNs and numbers. Pasted text
//! comes from consoles, CLIs, logs and JSON, so words are split on anything that cannot be part
//! of the thing looked for, and nothing assumes a line layout.

/// Words made of letters, digits and `.-_:/` (what ARNs, regions and instance types use).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/')))
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | ':' | '/' | '-' | '_')))
        .filter(|w| !w.is_empty())
}

/// The first EC2 instance type in the text (`m5.2xlarge`, `u-6tb1.metal`, `t3.micro`).
pub fn instance_type(text: &str) -> Option<String> {
    words(text)
        .flat_map(|w| w.split([':', '/']))
        .find(|w| is_instance_type(w))
        .map(str::to_ascii_lowercase)
}

/// `family.size`: a family of letters with at least one digit (`m5`, `c6gn`, `u-6tb1`) and an
/// EC2 size word, so host names such as `ec2.amazonaws.com` are not taken for one.
pub fn is_instance_type(word: &str) -> bool {
    let Some((family, size)) = word.split_once('.') else {
        return false;
    };
    let family_ok = family.starts_with(|c: char| c.is_ascii_lowercase())
        && family.chars().any(|c| c.is_ascii_digit())
        && family
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let sizes = ["nano", "micro", "small", "medium", "large"];
    let size_ok = sizes.contains(&size) || size.ends_with("xlarge") || size.starts_with("metal");
    family_ok && size_ok
}

/// The region of the first AWS ARN in the text (`arn:aws:elasticloadbalancing:eu-west-1:...`).
pub fn arn_region(text: &str) -> Option<String> {
    text.match_indices("arn:aws").find_map(|(at, _)| {
        let mut parts = text[at..].split(':');
        let _arn = parts.next()?;
        let partition = parts.next()?;
        let _service = parts.next()?;
        let region = parts.next()?;
        (partition.starts_with("aws") && is_aws_region(region)).then(|| region.to_string())
    })
}

/// An AWS region or Availability Zone named anywhere in the text, as a region; also at the end
/// of a compound name (a CloudFormation stack `NetworkVpcStack-111111111111-eu-west-2`).
pub fn aws_region(text: &str) -> Option<String> {
    arn_region(text).or_else(|| {
        words(text).flat_map(|w| w.split([':', '/'])).find_map(|w| {
            let tails = std::iter::once(w).chain(w.match_indices('-').map(|(i, _)| &w[i + 1..]));
            tails.into_iter().find_map(region_of_word)
        })
    })
}

fn region_of_word(w: &str) -> Option<String> {
    if is_aws_region(w) {
        return Some(w.to_string());
    }
    // An Availability Zone (us-east-1a) is in its region.
    let region = w.strip_suffix(|c: char| c.is_ascii_lowercase())?;
    is_aws_region(region).then(|| region.to_string())
}

/// The text with what wrappers add removed: escapes (`\n`, `\"`), box drawing and table bars
/// of terminal UIs, and line wraps; white space collapsed to single spaces. Phrases and codes
/// are matched on this.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                // An escape: `\n`, `\t`, `\r` separate words; a quote or backslash is kept bare.
                if matches!(chars.peek(), Some('n' | 't' | 'r')) {
                    chars.next();
                    out.push(' ');
                }
            }
            '│' | '┃' | '╷' | '╵' | '║' => out.push(' '),
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`has_word`], ignoring case (codes are printed as `Throttling` or `THROTTLING`).
pub fn has_word_nocase(text: &str, needle: &str) -> bool {
    has_word(&text.to_ascii_lowercase(), &needle.to_ascii_lowercase())
}

/// A GCP region, or the region of a zone (`us-east1-d`), named anywhere in the text.
pub fn gcp_region(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find_map(|w| {
            if is_gcp_region(w) {
                return Some(w.to_string());
            }
            match w.rsplit_once('-') {
                Some((region, zone)) if zone.len() == 1 && is_gcp_region(region) => {
                    Some(region.to_string())
                }
                _ => None,
            }
        })
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`: what the CRD accepts for an AWS region.
pub fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// `us-central1`, `europe-west4`: what the CRD accepts for a GCP region (besides `global`).
pub fn is_gcp_region(s: &str) -> bool {
    let Some((area, place)) = s.split_once('-') else {
        return false;
    };
    let letters = place.trim_end_matches(|c: char| c.is_ascii_digit());
    !area.is_empty()
        && area.chars().all(|c| c.is_ascii_lowercase())
        && !letters.is_empty()
        && letters.chars().all(|c| c.is_ascii_lowercase())
        && letters.len() < place.len()
}

/// The number right after `marker` (skipping spaces and quotes), e.g. `limit of 32` or
/// `Limit: 8.0`. Case-insensitive on the marker.
pub fn number_after(text: &str, marker: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(&marker.to_ascii_lowercase())? + marker.len();
    let rest = text[at..].trim_start_matches([' ', '\'', '"', '(']);
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(rest.len());
    rest[..end]
        .trim_end_matches('.')
        .replace(',', "")
        .parse()
        .ok()
}

/// Whether `needle` appears as a whole word (an error code such as `VcpuLimitExceeded` inside
/// `Client.VcpuLimitExceeded` or `"__type": "VcpuLimitExceeded"` counts).
pub fn has_word(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// Case-insensitive substring test, for the sentences of error messages.
pub fn says(text: &str, phrase: &str) -> bool {
    text.to_ascii_lowercase()
        .contains(&phrase.to_ascii_lowercase())
}

/// The first line of the text that holds `needle`, trimmed and cut to `max` characters, for a
/// justification that quotes the error.
pub fn line_with(text: &str, needle: &str, max: usize) -> String {
    let line = text
        .lines()
        .find(|l| says(l, needle))
        .unwrap_or_else(|| text.lines().find(|l| !l.trim().is_empty()).unwrap_or(""));
    let line = line.trim();
    if line.chars().count() <= max {
        return line.to_string();
    }
    let cut: String = line.chars().take(max.saturating_sub(3)).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_instance_types_not_host_names() {
        assert_eq!(
            instance_type("launching m5.2xlarge in us-east-1a").as_deref(),
            Some("m5.2xlarge")
        );
        assert_eq!(
            instance_type("InstanceType: \"u-6tb1.metal\"").as_deref(),
            Some("u-6tb1.metal")
        );
        assert_eq!(
            instance_type("see ec2.amazonaws.com and c6i.large").as_deref(),
            Some("c6i.large")
        );
        assert_eq!(instance_type("nothing here v1.2"), None);
    }

    #[test]
    fn regions_from_arns_zones_and_words() {
        let arn = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web/abc";
        assert_eq!(arn_region(arn).as_deref(), Some("eu-west-1"));
        assert_eq!(
            aws_region(&format!("on {arn}")).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            aws_region("in zone us-west-2b.").as_deref(),
            Some("us-west-2")
        );
        assert_eq!(
            aws_region("us-gov-west-1").as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(aws_region("no region at all"), None);
        assert!(is_gcp_region("us-central1") && is_gcp_region("europe-west4"));
        assert!(!is_gcp_region("us-east-1") && !is_gcp_region("global"));
    }

    #[test]
    fn numbers_after_markers() {
        assert_eq!(
            number_after("current vCPU limit of 32 allows", "limit of"),
            Some(32.0)
        );
        assert_eq!(number_after("Limit: 8.0 in region", "limit:"), Some(8.0));
        assert_eq!(
            number_after("per load balancer '1,000' has", "load balancer"),
            Some(1000.0)
        );
        assert_eq!(number_after("limit of N", "limit of"), None);
    }

    #[test]
    fn codes_are_whole_words() {
        assert!(has_word("Client.VcpuLimitExceeded: x", "VcpuLimitExceeded"));
        assert!(!has_word("MyVcpuLimitExceededX", "VcpuLimitExceeded"));
    }
}
