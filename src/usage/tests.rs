use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::*;
use crate::{
    api::{Headroom, HeadroomStatus, UsageBasis},
    cloud::UsageView,
};

fn t(hours: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + hours * 3600).unwrap()
}

/// Hourly samples ending at hour 0 (the read), from `f(hours before the read)`.
fn view(hours: i64, f: impl Fn(i64) -> f64) -> UsageView {
    UsageView {
        points: (0..=hours).rev().map(|h| (t(-h), f(h))).collect(),
        source: "test".into(),
        read_at: t(0),
    }
}

fn spec(percent: i32, max: i64) -> Headroom {
    Headroom {
        percent,
        of: UsageBasis::Peak,
        window: None,
        max,
        cooldown: None,
    }
}

const WEEK: SignedDuration = SignedDuration::from_hours(168);

#[test]
fn the_reading_takes_the_peak_and_trend_inside_the_window_only() {
    // 10 per day of growth, and a spike of 900 nine days ago, outside the week.
    let v = view(240, |h| {
        if h == 216 {
            900.0
        } else {
            500.0 - h as f64 * 10.0 / 24.0
        }
    });
    let r = reading(&v, WEEK).unwrap();
    assert_eq!(r.current, 500.0);
    assert!((r.peak - 500.0).abs() < 1e-9, "{}", r.peak);
    assert!((r.per_day.unwrap() - 10.0).abs() < 1e-6, "{:?}", r.per_day);
    let r = reading(&v, SignedDuration::from_hours(240)).unwrap();
    assert_eq!(r.peak, 900.0);
    let empty = UsageView {
        points: vec![(t(-200), 5.0)],
        ..v
    };
    assert_eq!(
        reading(&empty, WEEK),
        None,
        "no sample in the window: no reading"
    );
}

#[test]
fn the_forecast_follows_the_trend_to_the_value_within_the_horizon() {
    let growing = reading(&view(168, |h| 500.0 - h as f64 * 10.0 / 24.0), WEEK).unwrap();
    let f = Forecast::of(&growing, 640.0, t(0));
    let at = f.at().expect("reached in 14 days");
    let days = at.duration_since(t(0)).as_secs_f64() / 86_400.0;
    assert!((days - 14.0).abs() < 0.01, "{days}");
    assert!(
        f.describe(640.0, t(0)).contains("in about 14 days"),
        "{}",
        f.describe(640.0, t(0))
    );
    assert!(
        matches!(Forecast::of(&growing, 10_000.0, t(0)), Forecast::NotWithin(w) if w == "not within 90 days")
    );
    assert_eq!(Forecast::of(&growing, 400.0, t(0)), Forecast::Reached);
    let flat = reading(&view(168, |_| 300.0), WEEK).unwrap();
    assert!(
        matches!(Forecast::of(&flat, 640.0, t(0)), Forecast::NotWithin(w) if w.contains("not growing"))
    );
    assert!(
        matches!(Forecast::of(&flat, -1.0, t(0)), Forecast::NotWithin(w) if w.contains("unlimited"))
    );
}

#[test]
fn headroom_is_the_peak_plus_the_percent_rounded_up_and_bounded() {
    let r = reading(&view(168, |h| if h == 30 { 812.0 } else { 600.0 }), WEEK).unwrap();
    let got = headroom(
        &spec(30, 4000),
        Some(&r),
        None,
        640.0,
        &Bounds::default(),
        t(0),
    )
    .unwrap();
    assert_eq!(got.value, 1056);
    assert_eq!(got.arithmetic, "peak 812 over 168h + 30 % = 1,056");
    assert_eq!(
        got.raised_at,
        Some(Time(t(0))),
        "1,056 is above the value: a raise"
    );
    assert_eq!(got.held, None);

    let got = headroom(
        &spec(30, 1000),
        Some(&r),
        None,
        640.0,
        &Bounds::default(),
        t(0),
    )
    .unwrap();
    assert_eq!(
        (got.value, got.held.as_deref()),
        (1000, Some("capped at spec.headroom.max 1,000"))
    );
    let cap = Cap {
        value: 900,
        why: "spec.guardrails.maxValues[L-1] = 900".into(),
    };
    let got = headroom(
        &spec(30, 4000),
        Some(&r),
        None,
        640.0,
        &Bounds {
            cap: Some(cap),
            ..Bounds::default()
        },
        t(0),
    )
    .unwrap();
    assert_eq!(got.value, 900);
    assert!(got.held.unwrap().contains("maxValues[L-1] = 900"));

    let now = Headroom {
        of: UsageBasis::Current,
        ..spec(10, 4000)
    };
    let got = headroom(&now, Some(&r), None, 640.0, &Bounds::default(), t(0)).unwrap();
    assert_eq!(
        (got.value, got.arithmetic.as_str()),
        (660, "usage 600 + 10 % = 660")
    );
    assert_eq!(
        headroom(&spec(30, 4000), None, None, 640.0, &Bounds::default(), t(0)),
        None
    );
}

#[test]
fn headroom_never_lowers_and_raises_at_most_once_per_cooldown() {
    let h = spec(30, 4000);
    let before = HeadroomStatus {
        value: 1056,
        arithmetic: "peak 812 over 168h + 30 % = 1,056".into(),
        raised_at: Some(Time(t(-2))),
        held: None,
    };
    // Usage fell: the value stays.
    let low = reading(&view(168, |_| 100.0), WEEK).unwrap();
    let got = headroom(
        &h,
        Some(&low),
        Some(&before),
        1056.0,
        &Bounds::default(),
        t(0),
    )
    .unwrap();
    assert_eq!(got.value, 1056);
    assert!(got.held.unwrap().contains("never lowers"));
    // Usage grew two hours after the last raise: held until the cooldown ends.
    let high = reading(&view(168, |_| 1000.0), WEEK).unwrap();
    let got = headroom(
        &h,
        Some(&high),
        Some(&before),
        1056.0,
        &Bounds::default(),
        t(0),
    )
    .unwrap();
    assert_eq!(
        (got.value, got.raised_at.clone()),
        (1056, Some(Time(t(-2))))
    );
    assert!(
        got.held.unwrap().contains("held at 1,056 until"),
        "in cooldown"
    );
    // A day after it, the raise goes through.
    let got = headroom(
        &h,
        Some(&high),
        Some(&before),
        1056.0,
        &Bounds::default(),
        t(23),
    )
    .unwrap();
    assert_eq!((got.value, got.raised_at), (1300, Some(Time(t(23)))));
    // Unknown usage keeps what was asked.
    let got = headroom(&h, None, Some(&before), 1056.0, &Bounds::default(), t(0)).unwrap();
    assert_eq!(got.value, 1056);
    assert!(got.held.unwrap().contains("unknown"));
    // A lower max bounds even the kept value.
    let got = headroom(
        &spec(30, 900),
        Some(&low),
        Some(&before),
        1056.0,
        &Bounds::default(),
        t(0),
    )
    .unwrap();
    assert_eq!(got.value, 900);
}

#[test]
fn the_accounts_minimum_cooldown_paces_raises_whatever_the_spec_asks() {
    let h = Headroom {
        cooldown: Some("1s".into()),
        ..spec(30, 100_000)
    };
    let before = HeadroomStatus {
        value: 1056,
        arithmetic: String::new(),
        raised_at: Some(Time(t(-2))),
        held: None,
    };
    let high = reading(&view(168, |_| 3000.0), WEEK).unwrap();
    // The spec's 1s alone lets usage raise it two hours later.
    let got = headroom(
        &h,
        Some(&high),
        Some(&before),
        1056.0,
        &Bounds::default(),
        t(0),
    )
    .unwrap();
    assert_eq!(got.value, 3900);
    // A 6h minimum on the account holds it until six hours after the last raise.
    let paced = Bounds {
        min_cooldown: SignedDuration::from_hours(6),
        ..Bounds::default()
    };
    let got = headroom(&h, Some(&high), Some(&before), 1056.0, &paced, t(0)).unwrap();
    assert_eq!((got.value, got.raised_at), (1056, Some(Time(t(-2)))));
    let held = got.held.unwrap();
    assert!(held.contains("headroomMinCooldown 6h"), "{held}");
    let got = headroom(&h, Some(&high), Some(&before), 1056.0, &paced, t(4)).unwrap();
    assert_eq!(got.value, 3900, "raised once the minimum has passed");
}

#[test]
fn numbers_and_percentages_read_as_status_writes_them() {
    assert_eq!(number(1056.0), "1,056");
    assert_eq!(number(1_000_000.0), "1,000,000");
    assert_eq!(number(12.5), "12.5");
    assert_eq!(number(640.0), "640");
    assert_eq!(utilization_percent(812.0, 1000.0), Some(81.2));
    assert_eq!(utilization_percent(1.0, -1.0), None);
    assert_eq!(duration_text(WEEK), "168h");
}

#[test]
fn status_keeps_usage_to_hundredths_and_works_from_the_whole_reading() {
    // Growth of 0.5 a day makes every sample but the first a long double.
    let v = view(168, |h| 300.0 + (168 - h) as f64 * 0.5 / 24.0 + 1.0 / 3.0);
    let o = observation(&Ok(v), None, 1000.0, None, &Bounds::default(), t(0));
    assert_eq!(o.usage.current, Some(303.83), "{:?}", o.usage);
    assert_eq!(o.usage.peak, Some(303.83));
    assert_eq!(o.usage.utilization_percent, Some(30.4));
    assert!(o.usage.forecast.is_some(), "{:?}", o.usage);
}
