//! Kubernetes resource quantities (`2000`, `1500m`, `2k`, `1e3`) as whole vCPUs, rounded up.

/// The quantity in whole CPUs, rounded up; None when it is not a quantity.
pub fn vcpus(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    let value = (number * factor).ceil();
    (0.0..1e15).contains(&value).then_some(value as i64)
}

#[cfg(test)]
mod tests {
    use super::vcpus;

    #[test]
    fn quantities_become_whole_vcpus_rounded_up() {
        assert_eq!(vcpus("2000"), Some(2000));
        assert_eq!(vcpus("1500m"), Some(2));
        assert_eq!(vcpus("2k"), Some(2000));
        assert_eq!(vcpus("1e3"), Some(1000));
        assert_eq!(vcpus("0.5"), Some(1));
        assert_eq!(vcpus("1Ki"), Some(1024));
        for bad in ["", "lots", "10x", "-5", "1e99"] {
            assert_eq!(vcpus(bad), None, "{bad}");
        }
    }
}
