//! The known region names nearest a name that is not one, for the message that refuses it: a
//! typo (`eu-wset-1`) or a number too far (`us-east-9`) is fixed by reading the hint.

/// At most this many names are offered.
const MOST: usize = 3;

/// Up to three known names nearest `region` by edit distance (ties by name): those at the
/// smallest distance found and one more, so `us-east-9` gets `us-east-1, us-east-2` and not
/// every region that shares its number. None when even the nearest differs in more than half
/// the name: a hint that far is noise.
pub fn nearest<'a>(region: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .map(|k| (distance(region, k), k))
        .collect();
    scored.sort_unstable();
    let Some(&(best, _)) = scored.first() else {
        return Vec::new();
    };
    if best > region.len() / 2 {
        return Vec::new();
    }
    scored
        .into_iter()
        .take_while(|(d, _)| *d <= best + 1)
        .take(MOST)
        .map(|(_, k)| k)
        .collect()
}

/// Levenshtein distance over bytes (region names are ASCII by the time they are compared).
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS: [&str; 8] = [
        "ap-south-1",
        "eu-central-1",
        "eu-west-1",
        "eu-west-2",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ];

    #[test]
    fn a_number_too_far_gets_its_siblings() {
        assert_eq!(nearest("us-east-9", AWS), ["us-east-1", "us-east-2"]);
    }

    #[test]
    fn a_typo_gets_the_name_meant_first() {
        assert_eq!(nearest("eu-wset-1", AWS)[0], "eu-west-1");
        assert_eq!(
            nearest("us-centrall1", ["us-central1", "us-east1"]),
            ["us-central1"]
        );
    }

    #[test]
    fn at_most_three_and_none_when_nothing_is_near() {
        let many = ["us-east1", "us-east2", "us-east3", "us-east4", "us-east5"];
        assert_eq!(nearest("us-east9", many).len(), 3);
        assert!(nearest("mars-olympus-1", AWS).is_empty());
        assert!(nearest("us-east-9", []).is_empty());
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("us-east-9", "us-east-1"), 1);
        assert_eq!(distance("eu-wset-1", "eu-west-1"), 2);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
