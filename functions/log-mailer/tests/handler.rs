//! The handler in-process against the emulator: real DynamoDB tables from template.yaml,
//! the real SES adapter (wrapped where a test needs SES to misbehave), stream records from
//! events/log-mailer/ and from items as the stores wrote them, mail read back from the
//! emulator. Each test uses its own users and marathons, so they share one emulator.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use domain::activity::{ActivityDetails, ActivityEntry, ActivityKind, LockDetails};
use domain::memory::ManualClock;
use infra::poison::MemoryPoison;
use serde_json::json;
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn the_samples_are_items_as_the_producer_writes_them() {
    let world = World::new().await;
    for name in [
        "result-recorded.json",
        "marathon-cancelled.json",
        "modify-no-op.json",
    ] {
        let event = sample(name);
        assert_eq!(event.records.len(), 1, "{name}");
        let record = &event.records[0];
        let image = record.change.new_image.clone();
        let entry: ActivityEntry = serde_dynamo::from_item(image.clone())
            .unwrap_or_else(|e| panic!("{name}: NewImage is not an activity entry: {e}"));
        // built by infra's ActivityLog (pk, sk, expires_at and all), nothing more or less
        assert_eq!(world.item(&entry), image, "{name}");
        assert_eq!(record.change.keys.get("pk"), image.get("pk"), "{name}");
        assert!(record.change.sequence_number.is_some(), "{name}");
    }
    let remove = &sample("ttl-remove.json").records[0];
    assert_eq!(remove.event_name, "REMOVE");
    assert!(remove.change.new_image.is_empty());
    let modify = &sample("modify-no-op.json").records[0];
    assert_eq!(modify.event_name, "MODIFY");
}

#[tokio::test]
async fn recording_a_result_mails_its_runner_once() {
    let world = World::new().await;
    let (organizer, organizer_email) = world.user("Organizer Park").await;
    let (runner, email) = world.user("김러너").await;
    let entry = sample_entry("result-recorded.json", &organizer, Some(&runner));
    let record = record("result-recorded.json", world.item(&entry));
    let mailer = world.mailer(|_| {}).await;

    let response = mailer
        .handle(lambda(
            event(vec![record]),
            Some(OffsetDateTime::now_utc() + Duration::seconds(60)),
        ))
        .await
        .unwrap();

    assert_eq!(failed(&response), Vec::<String>::new());
    let mails = world.mail_to(&email).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.source, format!("\"mrmrthon\" <{}>", world.settings.sender));
    assert_eq!(
        mail.subject,
        "[mrmrthon] 2026 서울 가을 마라톤 공식 기록이 등록되었습니다 (Official result recorded)"
    );
    assert_eq!(display_name(&mail.to[0]), "김러너");
    // multipart/alternative: a plain-text part and an HTML part saying the same, Korean first
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(mail.body.starts_with("<!DOCTYPE html>"), "{}", mail.body);
    assert!(
        mail.text
            .starts_with("2026 서울 가을 마라톤 공식 기록이 등록되었습니다\n\n김러너님, 안녕하세요.\n"),
        "{}",
        mail.text
    );
    for part in [&mail.body, &mail.text] {
        for expected in ["김러너님, 안녕하세요.", "Hello 김러너,", "3:41:27", "150"] {
            assert!(part.contains(expected), "{expected} in {part}");
        }
        assert!(
            part.find("김러너님").unwrap() < part.find("Hello 김러너").unwrap(),
            "{part}"
        );
    }
    // both parts link to the result's page on the site the template names (locally the
    // gateway of make dev) and to the runner's points
    let site = world
        .settings
        .site
        .as_ref()
        .expect("template.yaml gives SITE_URL");
    assert_eq!(site.as_str(), "http://127.0.0.1:3000");
    let ActivityDetails::Result(details) = entry.details().unwrap() else {
        panic!("a result entry")
    };
    let page = format!(
        "http://127.0.0.1:3000/marathons/{}/results/{runner}",
        details.marathon_id
    );
    assert!(
        mail.text.contains(&format!("기록 보기: {page}\n")),
        "{}",
        mail.text
    );
    assert!(
        mail.body.contains(&format!("<a href=\"{page}\">")),
        "{}",
        mail.body
    );
    assert!(
        mail.text
            .contains("Your points: http://127.0.0.1:3000/me/points\n"),
        "{}",
        mail.text
    );
    // the organizer acted; the runner is who it concerns
    assert!(world.mail_to(&organizer_email).await.is_empty());
}

#[tokio::test]
async fn cancelling_a_marathon_mails_each_of_its_30_participants_once() {
    let world = World::new().await;
    let (organizer, organizer_email) = world.user("Organizer Lee").await;
    let mut runners = Vec::new();
    let mut emails = Vec::new();
    for i in 0..30 {
        let (id, email) = world.user(&format!("Runner {i}")).await;
        runners.push(id);
        emails.push(email);
    }
    let (_, outsider_email) = world.user("Not Registered").await;
    let marathon = world.marathon(&organizer, "Jeju Marathon", &runners).await;
    let cancelled = world.cancel(&marathon).await;
    // participants come in pages of 7: five Query pages, five chunks
    let mailer = world.mailer(|l| l.page_size = 7).await;

    let response = mailer
        .handle(lambda(
            event(vec![record("marathon-cancelled.json", cancelled)]),
            Some(OffsetDateTime::now_utc() + Duration::seconds(60)),
        ))
        .await
        .unwrap();

    assert_eq!(failed(&response), Vec::<String>::new());
    assert_eq!(world.counts(&emails).await, vec![1; 30]);
    let all = world.outbox().await;
    let mail = all.iter().find(|m| bare(&m.to[0]) == emails[0]).unwrap();
    assert_eq!(
        mail.subject,
        "[mrmrthon] Jeju Marathon 대회가 취소되었습니다 (Race cancelled)"
    );
    assert!(mail.body.contains("Runner 0님, 안녕하세요."), "{}", mail.body);
    let page = format!("http://127.0.0.1:3000/marathons/{}", marathon.id);
    assert!(
        mail.text.contains(&format!("대회 페이지: {page}\n")),
        "{}",
        mail.text
    );
    assert!(world.mail_to(&outsider_email).await.is_empty());
    assert!(world.mail_to(&organizer_email).await.is_empty());
}

#[tokio::test]
async fn the_same_batch_delivered_twice_sends_no_second_mail() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Choi").await;
    let (runner, runner_email) = world.user("Runner Han").await;
    let (locked, locked_email) = world.user("Locked Out").await;
    let result = sample_entry("result-recorded.json", &organizer, Some(&runner));
    let lock = ActivityEntry::new(
        locked.clone(),
        ActivityKind::AccountLocked,
        OffsetDateTime::now_utc(),
        Default::default(),
    )
    .with_details(ActivityDetails::Locked(LockDetails {
        locked_until: Some(OffsetDateTime::now_utc().unix_timestamp() + 900),
    }));
    let batch = vec![
        record("result-recorded.json", world.item(&result)),
        record("result-recorded.json", world.item(&lock)),
    ];
    let mailer = world.mailer(|_| {}).await;
    let counting = Arc::new(Flaky::around(mailer.ses.clone()));
    let mailer = log_mailer::Mailer {
        ses: counting.clone(),
        ..mailer
    };

    for delivery in 1..=2 {
        let response = mailer.handle(lambda(event(batch.clone()), None)).await.unwrap();
        assert_eq!(failed(&response), Vec::<String>::new(), "delivery {delivery}");
    }

    assert_eq!(world.counts(&[runner_email, locked_email.clone()]).await, [1, 1]);
    assert_eq!(
        counting.calls.load(Ordering::SeqCst),
        2,
        "the redelivery called SES again"
    );
    let lock_mail = &world.mail_to(&locked_email).await[0];
    assert_eq!(
        lock_mail.subject,
        "[mrmrthon] 계정이 일시적으로 잠겼습니다 (Account locked)"
    );
}

#[tokio::test]
async fn a_name_with_line_breaks_and_script_is_safe_end_to_end() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Kang").await;
    let (runner, email) = world.user("Placeholder").await;
    let victim = format!("{}@example.com", unique("victim"));
    let evil_name = format!("Kim\r\nBcc: {victim}\r\n<script>alert(1)</script>");
    world.set_profile(&runner, "name", &evil_name).await;
    let mut entry = sample_entry("result-recorded.json", &organizer, Some(&runner));
    entry.details["marathon_name"] = json!("Seoul\r\nSubject: you won\n<img src=x onerror=alert(2)>");
    let mailer = world.mailer(|_| {}).await;

    let response = mailer
        .handle(lambda(
            event(vec![record("result-recorded.json", world.item(&entry))]),
            None,
        ))
        .await
        .unwrap();

    assert_eq!(failed(&response), Vec::<String>::new());
    let mails = world.mail_to(&email).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    for header in [&mail.subject, &mail.source, &mail.to[0]] {
        assert!(!header.contains(['\r', '\n']), "line break in header {header:?}");
    }
    assert_eq!(mail.to.len(), 1);
    // one line, cut to 64 characters; it can only be a display name, never a header
    let name = display_name(&mail.to[0]);
    assert!(!name.contains(['\r', '\n']), "{name:?}");
    assert!(
        name.starts_with(&format!("Kim Bcc: {victim} <script>")),
        "{name:?}"
    );
    assert!(
        mail.subject
            .starts_with("[mrmrthon] Seoul Subject: you won <img src=x onerror=alert(2)> "),
        "{}",
        mail.subject
    );
    assert!(!mail.body.contains("<script"), "{}", mail.body);
    assert!(!mail.body.contains("<img"), "{}", mail.body);
    assert!(
        mail.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        mail.body
    );
    assert!(
        mail.body.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{}",
        mail.body
    );
    assert!(
        world.mail_to(&victim).await.is_empty(),
        "a header injection reached the victim"
    );
}

#[tokio::test]
async fn ses_throttling_that_does_not_pass_puts_the_mails_off_and_they_are_sent_once_later() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Yoon").await;
    let mut runners = Vec::new();
    let mut emails = Vec::new();
    for i in 0..6 {
        let (id, email) = world.user(&format!("Runner T{i}")).await;
        runners.push(id);
        emails.push(email);
    }
    let marathon = world.marathon(&organizer, "Busan Half", &runners).await;
    let updated = world
        .change_marathon(&marathon, ActivityKind::MarathonUpdated)
        .await;
    let record = record("marathon-cancelled.json", updated);
    let mailer = world.mailer(|l| l.concurrency = 3).await;
    let flaky = Arc::new(Flaky::around(mailer.ses.clone()));
    let queue = Arc::new(MemoryMailQueue::default());
    let mailer = log_mailer::Mailer {
        ses: flaky.clone(),
        retry_queue: queue.clone(),
        ..mailer
    };

    // SES keeps throttling longer than the backoff lasts: the record is done, every mail
    // waits on the retry queue, none is marked sent
    flaky.throttle.store(usize::MAX, Ordering::SeqCst);
    let response = mailer
        .handle(lambda(event(vec![record.clone()]), None))
        .await
        .unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    assert_eq!(world.counts(&emails).await, vec![0; 6]);
    assert_eq!(queue.mails.lock().unwrap().len(), 6);
    assert!(
        flaky.throttled.load(Ordering::SeqCst) >= 6,
        "the sends were retried before they were put off"
    );
    assert!(
        flaky.calls.load(Ordering::SeqCst) < 6 * 6,
        "once SES failed, the rest were put off without asking it"
    );

    // from the queue while SES still throttles: every message comes back later
    let batch = queue.take_batch();
    let response = mailer.handle_retries(batch.clone(), None).await;
    assert_eq!(response.batch_item_failures.len(), 6);
    assert_eq!(world.counts(&emails).await, vec![0; 6]);

    // SES takes mails again: each is sent once, and a redelivered batch sends nothing
    flaky.throttle.store(0, Ordering::SeqCst);
    let response = mailer.handle_retries(batch.clone(), None).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(world.counts(&emails).await, vec![1; 6]);
    let response = mailer.handle_retries(batch, None).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(world.counts(&emails).await, vec![1; 6]);
}

#[tokio::test]
async fn a_spent_daily_quota_defers_at_once_and_security_mails_go_first_when_it_is_back() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Quota").await;
    let (runner, runner_email) = world.user("Runner Quota").await;
    let (locked, locked_email) = world.user("Runner Locked").await;
    let result = sample_entry("result-recorded.json", &organizer, Some(&runner));
    let lock = ActivityEntry::new(
        locked.clone(),
        ActivityKind::AccountLocked,
        OffsetDateTime::now_utc(),
        domain::activity::RequestOrigin::default(),
    )
    .with_details(ActivityDetails::Locked(LockDetails {
        locked_until: Some(OffsetDateTime::now_utc().unix_timestamp() + 900),
    }));
    let batch = vec![
        record("result-recorded.json", world.item(&result)),
        record("result-recorded.json", world.item(&lock)),
    ];
    let order = Arc::new(Recording::default());
    let queue = Arc::new(MemoryMailQueue::default());
    let mailer = world.mailer(|_| {}).await;
    let quota = Arc::new(Quota {
        inner: mailer.ses.clone(),
        spent: std::sync::atomic::AtomicBool::new(true),
        order: order.clone(),
    });
    let mailer = log_mailer::Mailer {
        ses: quota.clone(),
        retry_queue: queue.clone(),
        ..mailer
    };
    let response = mailer.handle(lambda(event(batch), None)).await.unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    assert_eq!(
        order.calls.load(Ordering::SeqCst),
        1,
        "the quota is not asked twice"
    );
    let deferred = queue.mails.lock().unwrap().clone();
    assert_eq!(deferred.len(), 2);
    let security = deferred.iter().find(|(m, _)| m.security).expect("the lock mail");
    let other = deferred
        .iter()
        .find(|(m, _)| !m.security)
        .expect("the result mail");
    assert!(security.1 < other.1, "security mails come back first");

    // the quota is back: the security mail goes first even when it came later
    quota.spent.store(false, Ordering::SeqCst);
    order.calls.store(0, Ordering::SeqCst);
    let response = mailer.handle_retries(queue.take_batch(), None).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        world.counts(&[runner_email.clone(), locked_email.clone()]).await,
        [1, 1]
    );
    let sent = order.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[0].contains(&locked_email) && sent[1].contains(&runner_email),
        "{sent:?}"
    );
}

/// A mailer whose sends each take "one second" on a clock the test moves, with no stop
/// margin: an invocation mails about as many as its deadline has seconds.
async fn ticking_mailer(
    world: &World,
    tweak: impl FnOnce(&mut log_mailer::Limits),
) -> (log_mailer::Mailer, Arc<ManualClock>, Arc<Flaky>) {
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let mailer = world
        .mailer(|l| {
            l.stop_margin = std::time::Duration::ZERO;
            tweak(l);
        })
        .await;
    let mut ticking = Flaky::around(mailer.ses.clone());
    ticking.tick = Some(clock.clone());
    let ticking = Arc::new(ticking);
    let mailer = log_mailer::Mailer {
        ses: ticking.clone(),
        clock: clock.clone(),
        ..mailer
    };
    (mailer, clock, ticking)
}

fn part_number(image: &serde_dynamo::Item) -> Option<&str> {
    match image.get("mail_part") {
        Some(serde_dynamo::AttributeValue::N(n)) => Some(n),
        _ => None,
    }
}

#[tokio::test]
async fn a_deadline_too_short_continues_the_mailing_in_a_new_part() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Jang").await;
    let mut runners = Vec::new();
    let mut emails = Vec::new();
    for i in 0..20 {
        let (id, email) = world.user(&format!("Runner D{i}")).await;
        runners.push(id);
        emails.push(email);
    }
    let (after, after_email) = world.user("Next In Batch").await;
    let marathon = world.marathon(&organizer, "Daegu Marathon", &runners).await;
    let cancelled = world.cancel(&marathon).await;
    let cancel = record("marathon-cancelled.json", cancelled.clone());
    let next = record(
        "result-recorded.json",
        world.item(&sample_entry("result-recorded.json", &organizer, Some(&after))),
    );
    // the deadline is 10.5 s away: about ten mails fit
    let (mailer, clock, ticking) = ticking_mailer(&world, |l| {
        l.concurrency = 4;
        l.page_size = 6;
    })
    .await;
    let deadline = domain::Clock::now(&*clock) + Duration::milliseconds(10_500);

    let response = mailer
        .handle(lambda(event(vec![cancel, next.clone()]), Some(deadline)))
        .await
        .unwrap();

    assert_eq!(
        failed(&response),
        vec![sequence(&next)],
        "the interrupted record is done once its continuation is written; the next one waits"
    );
    let first: usize = world.counts(&emails).await.iter().sum();
    assert!(
        (11..=14).contains(&first),
        "about ten mails fit before the deadline, at most three more in flight: {first}"
    );
    assert!(world.mail_to(&after_email).await.is_empty());
    let parts = world.parts(&cancelled).await;
    assert_eq!(parts.len(), 1, "one continuation");
    assert_eq!(part_number(&parts[0]), Some("1"));

    // the continuation's stream record, with time enough, sends the rest and nothing twice
    clock.advance(Duration::seconds(1));
    let calls = ticking.calls.load(Ordering::SeqCst);
    let deadline = domain::Clock::now(&*clock) + Duration::hours(1);
    let part = record("marathon-cancelled.json", parts[0].clone());
    let response = mailer
        .handle(lambda(event(vec![part, next]), Some(deadline)))
        .await
        .unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    assert_eq!(world.counts(&emails).await, vec![1; 20]);
    assert_eq!(ticking.calls.load(Ordering::SeqCst) - calls, 20 - first + 1);
    assert_eq!(world.mail_to(&after_email).await.len(), 1);
    assert_eq!(
        world.parts(&cancelled).await.len(),
        1,
        "finished: no further part"
    );
}

#[tokio::test]
async fn a_marathon_longer_than_the_retry_limit_is_mailed_in_parts_each_once() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Paik").await;
    let mut runners = Vec::new();
    let mut emails = Vec::new();
    for i in 0..40 {
        let (id, email) = world.user(&format!("Runner P{i}")).await;
        runners.push(id);
        emails.push(email);
    }
    let marathon = world.marathon(&organizer, "Ulsan Marathon", &runners).await;
    let cancelled = world.cancel(&marathon).await;
    // about four mails per invocation: ten parts, where the template allows 6 attempts
    // of one stream record (MaximumRetryAttempts: 5)
    let (mailer, clock, _) = ticking_mailer(&world, |l| {
        l.concurrency = 2;
        l.page_size = 3;
    })
    .await;

    let mut image = cancelled.clone();
    let mut invocations = 0;
    loop {
        invocations += 1;
        assert!(invocations <= 40, "every part settles at least one participant");
        let deadline = domain::Clock::now(&*clock) + Duration::milliseconds(4_500);
        let response = mailer
            .handle(lambda(
                event(vec![record("marathon-cancelled.json", image.clone())]),
                Some(deadline),
            ))
            .await
            .unwrap();
        assert_eq!(
            failed(&response),
            Vec::<String>::new(),
            "invocation {invocations}"
        );
        clock.advance(Duration::seconds(1));
        let parts = world.parts(&cancelled).await;
        match parts.get(invocations - 1) {
            Some(next) => {
                assert_eq!(part_number(next), Some(invocations.to_string().as_str()));
                image = next.clone();
            }
            None => break,
        }
    }
    assert!(invocations > 6, "{invocations} invocations");
    assert_eq!(world.counts(&emails).await, vec![1; 40]);

    // a part delivered again finds its successor written: no mail, no second chain
    let parts = world.parts(&cancelled).await;
    let deadline = domain::Clock::now(&*clock) + Duration::milliseconds(4_500);
    let again = mailer
        .handle(lambda(
            event(vec![record("marathon-cancelled.json", parts[1].clone())]),
            Some(deadline),
        ))
        .await
        .unwrap();
    assert_eq!(failed(&again), Vec::<String>::new());
    assert_eq!(world.counts(&emails).await, vec![1; 40]);
    assert_eq!(world.parts(&cancelled).await.len(), parts.len());
}

#[tokio::test]
async fn a_record_that_settles_nobody_fails_and_writes_no_part() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Seo").await;
    let mut runners = Vec::new();
    for i in 0..3 {
        runners.push(world.user(&format!("Runner N{i}")).await.0);
    }
    let marathon = world.marathon(&organizer, "Pohang Marathon", &runners).await;
    let cancelled = world.cancel(&marathon).await;
    let cancel = record("marathon-cancelled.json", cancelled.clone());
    let (mailer, _, ticking) = ticking_mailer(&world, |_| {}).await;
    // SES throttles every send and the retry queue is down too: nobody is settled, so
    // only the stream's retry helps
    ticking.throttle.store(usize::MAX, Ordering::SeqCst);
    let queue = Arc::new(MemoryMailQueue::default());
    queue.fail.store(true, Ordering::SeqCst);
    let mailer = log_mailer::Mailer {
        retry_queue: queue,
        ..mailer
    };

    let response = mailer
        .handle(lambda(event(vec![cancel.clone()]), None))
        .await
        .unwrap();

    assert_eq!(failed(&response), vec![sequence(&cancel)]);
    assert!(world.parts(&cancelled).await.is_empty());
}

#[tokio::test]
async fn modify_and_remove_records_send_nothing() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Seo").await;
    let (runner, email) = world.user("Runner Modify").await;
    let image = world.item(&sample_entry("modify-no-op.json", &organizer, Some(&runner)));
    let modify = record("modify-no-op.json", image.clone());
    let mut remove = sample("ttl-remove.json").records.remove(0);
    remove.change.sequence_number = Some(next_sequence());
    let mailer = world.mailer(|_| {}).await;

    let response = mailer
        .handle(lambda(event(vec![modify, remove]), None))
        .await
        .unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    assert!(world.mail_to(&email).await.is_empty(), "a MODIFY sent mail");

    // the same image as an INSERT does mail: the MODIFY was ignored for its event name
    let insert = record("result-recorded.json", image);
    let response = mailer.handle(lambda(event(vec![insert]), None)).await.unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    assert_eq!(world.mail_to(&email).await.len(), 1);
}

#[tokio::test]
async fn a_poison_record_is_parked_and_the_records_after_it_are_mailed() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Moon").await;
    let (first, first_email) = world.user("Runner Before").await;
    let (third, third_email) = world.user("Runner After").await;
    let before = record(
        "result-recorded.json",
        world.item(&sample_entry("result-recorded.json", &organizer, Some(&first))),
    );
    let mut broken = sample_entry("result-recorded.json", &organizer, Some(&first));
    broken.details = json!({ "marathon_name": "no runner named" });
    let poison = record("result-recorded.json", world.item(&broken));
    let mut garbage = sample("result-recorded.json").records.remove(0);
    garbage.change.sequence_number = Some(next_sequence());
    garbage.change.new_image.insert(
        "kind".into(),
        serde_dynamo::AttributeValue::S("result.teleported".into()),
    );
    let after = record(
        "result-recorded.json",
        world.item(&sample_entry("result-recorded.json", &organizer, Some(&third))),
    );
    let parked = Arc::new(MemoryPoison::default());
    let mailer = log_mailer::Mailer {
        poison: parked.clone(),
        ..world.mailer(|_| {}).await
    };

    let response = mailer
        .handle(lambda(event(vec![before, poison.clone(), after.clone()]), None))
        .await
        .unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    assert_eq!(world.counts(&[first_email, third_email.clone()]).await, [1, 1]);
    let sequences: Vec<String> = parked.parked().into_iter().map(|(s, _)| s).collect();
    assert_eq!(sequences, vec![sequence(&poison)]);

    // an unknown kind cannot be decoded either; a record that cannot be parked stays in
    // the stream, and nothing after it is touched
    parked.fail.store(true, Ordering::SeqCst);
    let response = mailer
        .handle(lambda(event(vec![garbage.clone(), after]), None))
        .await
        .unwrap();
    assert_eq!(failed(&response), vec![sequence(&garbage)]);
    assert_eq!(world.counts(&[third_email]).await, [1]);
    parked.fail.store(false, Ordering::SeqCst);
    let response = mailer
        .handle(lambda(event(vec![garbage.clone()]), None))
        .await
        .unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    assert_eq!(parked.parked().len(), 2);
}

#[tokio::test]
async fn participants_without_a_profile_or_a_usable_address_are_skipped() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Oh").await;
    let (reachable, reachable_email) = world.user("Runner Ok").await;
    let (bad_address, _) = world.user("Runner Bad Address").await;
    world.set_profile(&bad_address, "email", "not-an-address").await;
    let ghost = domain::UserId::generate(); // registered, but no profile
    let marathon = world
        .marathon(&organizer, "Gwangju 10K", &[reachable, bad_address, ghost])
        .await;
    let updated = world
        .change_marathon(&marathon, ActivityKind::MarathonUpdated)
        .await;
    let mailer = world.mailer(|_| {}).await;
    let counting = Arc::new(Flaky::around(mailer.ses.clone()));
    let mailer = log_mailer::Mailer {
        ses: counting.clone(),
        ..mailer
    };

    let response = mailer
        .handle(lambda(
            event(vec![record("marathon-cancelled.json", updated)]),
            None,
        ))
        .await
        .unwrap();

    assert_eq!(failed(&response), Vec::<String>::new(), "skips are not failures");
    assert_eq!(
        counting.calls.load(Ordering::SeqCst),
        1,
        "only the reachable one reached SES"
    );
    let mails = world.mail_to(&reachable_email).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject,
        "[mrmrthon] Gwangju 10K 대회 정보가 변경되었습니다 (Race details changed)"
    );
}

#[tokio::test]
async fn a_recipient_ses_rejects_is_skipped_and_not_retried() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Bae").await;
    let (good, good_email) = world.user("Runner Good").await;
    let (rejected, rejected_email) = world.user("Runner Sandboxed").await;
    let marathon = world.marathon(&organizer, "Incheon Run", &[good, rejected]).await;
    let cancelled = record("marathon-cancelled.json", world.cancel(&marathon).await);
    let mailer = world.mailer(|_| {}).await;
    let mut flaky = Flaky::around(mailer.ses.clone());
    flaky.reject = Some(rejected_email.clone());
    let flaky = Arc::new(flaky);
    let mailer = log_mailer::Mailer {
        ses: flaky.clone(),
        ..mailer
    };

    for _ in 0..2 {
        let response = mailer
            .handle(lambda(event(vec![cancelled.clone()]), None))
            .await
            .unwrap();
        assert_eq!(failed(&response), Vec::<String>::new());
    }

    assert_eq!(world.counts(&[good_email, rejected_email]).await, [1, 0]);
    assert_eq!(
        flaky.rejected.load(Ordering::SeqCst),
        1,
        "a rejected recipient is not retried"
    );
}

#[tokio::test]
async fn an_unverified_sender_fails_the_record_and_loses_no_mail() {
    // the real adapter against the emulator: SES's rejection names the sender, so the
    // recipient is not skipped for it
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Nam").await;
    let (runner, email) = world.user("Runner Waiting").await;
    let sender = format!("{}@unverified.example", unique("sender"));
    let mut settings = world.settings.clone();
    settings.sender = sender.clone();
    let mailer = log_mailer::Mailer::connect(&world.sdk, &settings).await;
    let record = record(
        "result-recorded.json",
        world.item(&sample_entry("result-recorded.json", &organizer, Some(&runner))),
    );

    let response = mailer
        .handle(lambda(event(vec![record.clone()]), None))
        .await
        .unwrap();
    assert_eq!(failed(&response), vec![sequence(&record)]);
    assert!(world.mail_to(&email).await.is_empty());

    world.verify_identity(&sender).await;
    let response = mailer.handle(lambda(event(vec![record]), None)).await.unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    let mails = world.mail_to(&email).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].source, format!("\"mrmrthon\" <{sender}>"));
}

#[tokio::test]
async fn concurrency_stays_within_its_bound() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Ryu").await;
    let mut runners = Vec::new();
    for i in 0..12 {
        runners.push(world.user(&format!("Runner C{i}")).await.0);
    }
    let marathon = world.marathon(&organizer, "Suwon Marathon", &runners).await;
    let cancelled = record("marathon-cancelled.json", world.cancel(&marathon).await);
    let mailer = world.mailer(|l| l.concurrency = 3).await;
    let gauge = Arc::new(Gauge {
        inner: mailer.ses.clone(),
        now: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    });
    let mailer = log_mailer::Mailer {
        ses: gauge.clone(),
        ..mailer
    };

    let response = mailer.handle(lambda(event(vec![cancelled]), None)).await.unwrap();

    assert_eq!(failed(&response), Vec::<String>::new());
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert!((1..=3).contains(&peak), "peak of sends in flight: {peak}");
}

struct Gauge {
    inner: Arc<dyn log_mailer::send::MailPort>,
    now: AtomicUsize,
    peak: AtomicUsize,
}

#[async_trait::async_trait]
impl log_mailer::send::MailPort for Gauge {
    async fn send(&self, mail: &log_mailer::compose::Mail) -> Result<String, log_mailer::send::SendError> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let result = self.inner.send(mail).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

#[tokio::test]
async fn edits_mail_each_participant_once_per_window_with_what_changed() {
    let world = World::new().await;
    let (organizer, organizer_email) = world.user("Organizer Lee").await;
    let (first, first_email) = world.user("Runner One").await;
    let (second, second_email) = world.user("Runner Two").await;
    let emails = [first_email, second_email];
    let marathon = world
        .marathon(&organizer, "Daegu Marathon", &[first, second])
        .await;
    let mailer = world.mailer(|_| {}).await;
    let deliver = async |entry: serde_dynamo::Item| {
        let response = mailer
            .handle(lambda(
                event(vec![record("marathon-cancelled.json", entry)]),
                Some(OffsetDateTime::now_utc() + Duration::seconds(60)),
            ))
            .await
            .unwrap();
        assert_eq!(failed(&response), Vec::<String>::new());
    };
    let start = OffsetDateTime::now_utc();
    let edit = async |changes: &[&str], at| {
        world
            .edit_marathon(&marathon, ActivityKind::MarathonUpdated, changes, at)
            .await
    };

    deliver(edit(&["location"], start).await).await;
    assert_eq!(world.counts(&emails).await, [1, 1]);
    let mail = &world.mail_to(&emails[0]).await[0];
    assert!(mail.text.contains("바뀐 항목: 장소"), "{}", mail.text);
    assert!(mail.text.contains("Changed: location"), "{}", mail.text);

    // four more edits within the hour (the template's default window): nobody is mailed
    for minutes in [5, 10, 20, 59] {
        deliver(edit(&["date"], start + Duration::minutes(minutes)).await).await;
    }
    assert_eq!(world.counts(&emails).await, [1, 1]);

    // the first edit after the window is mailed, listing what the held-back ones changed
    let later = edit(&["capacity"], start + Duration::minutes(61)).await;
    deliver(later.clone()).await;
    assert_eq!(world.counts(&emails).await, [2, 2]);
    let mails = world.mail_to(&emails[1]).await;
    let summary = mails
        .iter()
        .find(|m| m.text.contains("Changed: capacity, race date"))
        .unwrap_or_else(|| panic!("{mails:#?}"));
    assert!(
        summary.text.contains("바뀐 항목: 정원, 대회일"),
        "{}",
        summary.text
    );
    // a redelivery of that edit sends nothing twice
    deliver(later).await;
    assert_eq!(world.counts(&emails).await, [2, 2]);
    assert!(world.mail_to(&organizer_email).await.is_empty());
}

/// Sends in order, by recipient.
#[derive(Default)]
struct Recording {
    calls: AtomicUsize,
    sent: std::sync::Mutex<Vec<String>>,
}

/// SES with a daily quota that is spent until told otherwise.
struct Quota {
    inner: Arc<dyn log_mailer::send::MailPort>,
    spent: std::sync::atomic::AtomicBool,
    order: Arc<Recording>,
}

#[async_trait::async_trait]
impl log_mailer::send::MailPort for Quota {
    async fn send(&self, mail: &log_mailer::compose::Mail) -> Result<String, log_mailer::send::SendError> {
        self.order.calls.fetch_add(1, Ordering::SeqCst);
        if self.spent.load(Ordering::SeqCst) {
            return Err(log_mailer::send::SendError::QuotaExhausted(
                "Throttling: Daily message quota exceeded.".into(),
            ));
        }
        self.order.sent.lock().unwrap().push(mail.to.clone());
        self.inner.send(mail).await
    }
}

#[tokio::test]
async fn unverified_addresses_get_security_mails_only() {
    let world = World::new().await;
    let (organizer, _) = world.user("Organizer Verify").await;
    let (verified, verified_email) = world.user("Runner Verified").await;
    let (unverified, unverified_email) = world.unverified_user("Runner Unverified").await;
    let (legacy, legacy_email) = world.user("Runner Legacy").await;
    // a profile written before verification existed has no flag at all
    world
        .dynamo
        .update_item()
        .table_name(&world.settings.users_table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{legacy}")),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("PROFILE".into()))
        .update_expression("REMOVE email_verified")
        .send()
        .await
        .unwrap();
    let marathon = world
        .marathon(
            &organizer,
            "Verify 10K",
            &[verified.clone(), unverified.clone(), legacy.clone()],
        )
        .await;
    let cancelled = world.cancel(&marathon).await;
    let result = sample_entry("result-recorded.json", &organizer, Some(&unverified));
    let now = OffsetDateTime::now_utc();
    let origin = domain::activity::RequestOrigin::default;
    let lock = ActivityEntry::new(unverified.clone(), ActivityKind::AccountLocked, now, origin())
        .with_details(ActivityDetails::Locked(LockDetails {
            locked_until: Some(now.unix_timestamp() + 900),
        }));
    let changed = ActivityEntry::new(unverified.clone(), ActivityKind::PasswordChanged, now, origin());
    let mailer = world.mailer(|_| {}).await;

    let response = mailer
        .handle(lambda(
            event(vec![
                record("marathon-cancelled.json", cancelled),
                record("result-recorded.json", world.item(&result)),
                record("result-recorded.json", world.item(&lock)),
                record("result-recorded.json", world.item(&changed)),
            ]),
            None,
        ))
        .await
        .unwrap();

    assert_eq!(failed(&response), Vec::<String>::new(), "a skip is no failure");
    assert_eq!(world.mail_to(&verified_email).await.len(), 1, "the cancellation");
    assert_eq!(
        world.mail_to(&legacy_email).await.len(),
        1,
        "no flag counts as verified"
    );
    let mut subjects: Vec<String> = world
        .mail_to(&unverified_email)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "[mrmrthon] 계정이 일시적으로 잠겼습니다 (Account locked)",
            "[mrmrthon] 비밀번호가 변경되었습니다 (Password changed)",
        ],
        "the lock and password mails only: no cancellation, no result"
    );

    // verified now: the next result mail reaches them
    world.set_verified(&unverified, true).await;
    let corrected = sample_entry("result-recorded.json", &organizer, Some(&unverified));
    let response = mailer
        .handle(lambda(
            event(vec![record("result-recorded.json", world.item(&corrected))]),
            None,
        ))
        .await
        .unwrap();
    assert_eq!(failed(&response), Vec::<String>::new());
    assert_eq!(world.mail_to(&unverified_email).await.len(), 3);
}
