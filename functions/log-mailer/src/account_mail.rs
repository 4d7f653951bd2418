//! The texts of the account-lifecycle security mails (issue 15): kept apart from
//! `compose`'s race mails, which call in here for these events.

use crate::notice::SecurityEvent;

/// The subject, in Korean and in English.
pub fn subjects(event: &SecurityEvent) -> Option<(&'static str, &'static str)> {
    match event {
        SecurityEvent::PasswordChanged => {
            Some(("비밀번호가 변경되었습니다", "Your password has been changed"))
        }
        SecurityEvent::PasswordReset { .. } => Some(("비밀번호 재설정 링크", "Your password reset link")),
        SecurityEvent::VerifyEmail { .. } => {
            Some(("이메일 주소를 확인해 주세요", "Please verify your email address"))
        }
        SecurityEvent::AccountDeleted { .. } => {
            Some(("계정이 삭제되었습니다", "Your account has been deleted"))
        }
        SecurityEvent::AccountLocked { .. } | SecurityEvent::RefreshReuse => None,
    }
}

/// The subject's short form, in Korean and in English.
pub fn shorts(event: &SecurityEvent) -> Option<(&'static str, &'static str)> {
    match event {
        SecurityEvent::PasswordChanged => Some(("비밀번호 변경", "Password changed")),
        SecurityEvent::PasswordReset { .. } => Some(("비밀번호 재설정", "Password reset")),
        SecurityEvent::VerifyEmail { .. } => Some(("이메일 확인", "Verify your email")),
        SecurityEvent::AccountDeleted { .. } => Some(("계정 삭제", "Account deleted")),
        SecurityEvent::AccountLocked { .. } | SecurityEvent::RefreshReuse => None,
    }
}

/// The body's paragraphs in the mail's language.
pub fn paragraphs(event: &SecurityEvent, korean: bool) -> Option<Vec<String>> {
    match (event, korean) {
        (SecurityEvent::PasswordChanged, true) => Some(vec![
            "계정의 비밀번호가 변경되어, 모든 기기의 로그인 세션을 종료했습니다.".into(),
            "본인이 변경하지 않았다면 즉시 비밀번호 재설정을 진행해 주세요.".into(),
        ]),
        (SecurityEvent::PasswordChanged, false) => Some(vec![
            "Your account's password was changed, and every login session on every device was ended.".into(),
            "If you did not change it, reset your password right away.".into(),
        ]),
        (SecurityEvent::PasswordReset { .. }, true) => Some(vec![
            "비밀번호 재설정을 요청하셨습니다. 아래 링크에서 새 비밀번호를 설정해 주세요. 링크는 30분 동안 한 번만 사용할 수 있습니다.".into(),
            "요청하지 않으셨다면 이 메일을 무시하세요. 비밀번호는 바뀌지 않습니다.".into(),
        ]),
        (SecurityEvent::PasswordReset { .. }, false) => Some(vec![
            "Someone asked to reset your password. Set a new one with the link below: it works once, for 30 minutes.".into(),
            "If it was not you, ignore this mail: your password stays as it is.".into(),
        ]),
        (SecurityEvent::VerifyEmail { .. }, true) => Some(vec![
            "mrmrthon에 가입해 주셔서 감사합니다. 아래 링크로 이메일 주소를 확인해 주세요. 링크는 24시간 동안 한 번만 사용할 수 있습니다.".into(),
            "확인 전에는 보안 관련 메일만 받으며, 주최자는 공식 기록을 등록할 수 없습니다.".into(),
        ]),
        (SecurityEvent::VerifyEmail { .. }, false) => Some(vec![
            "Thanks for joining mrmrthon. Verify your email address with the link below: it works once, for 24 hours.".into(),
            "Until then you get security mails only, and an organizer cannot record results.".into(),
        ]),
        (SecurityEvent::AccountDeleted { .. }, true) => Some(vec![
            "mrmrthon 계정이 삭제되었습니다. 이메일 주소, 이름, 비밀번호, 개인 기록과 아직 열리지 않은 대회의 참가 신청을 지웠고, 모든 기기에서 로그아웃했습니다.".into(),
            "공식 기록은 순위가 바뀌지 않도록 포인트와 함께 \u{201c}Anonymous runner\u{201d}라는 이름으로 남습니다. 이 주소로 보내는 메일은 이것이 마지막입니다.".into(),
            "본인이 삭제하지 않았다면 비밀번호가 유출된 것일 수 있습니다. 같은 비밀번호를 쓰는 다른 서비스의 비밀번호를 바꿔 주세요.".into(),
        ]),
        (SecurityEvent::AccountDeleted { .. }, false) => Some(vec![
            "Your mrmrthon account has been deleted: its email address, name, password, private records and entries for races not yet run are gone, and every session has ended.".into(),
            "Official results stay in the rankings under the name \u{201c}Anonymous runner\u{201d}, with their points, so the rankings stay true. This is the last mail to this address.".into(),
            "If you did not delete it, your password may be known to someone else: change it wherever else you use it.".into(),
        ]),
        (SecurityEvent::AccountLocked { .. } | SecurityEvent::RefreshReuse, _) => None,
    }
}

/// The reset link, labelled in the mail's language (the mail's only link).
pub fn reset_link(
    event: &SecurityEvent,
    korean: bool,
    site: &infra::site::SiteUrl,
) -> Option<(&'static str, String)> {
    match event {
        SecurityEvent::PasswordReset { token, .. } => Some((
            if korean {
                "비밀번호 재설정"
            } else {
                "Reset your password"
            },
            site.reset_password(token),
        )),
        SecurityEvent::VerifyEmail { token, .. } => Some((
            if korean {
                "이메일 확인"
            } else {
                "Verify your email"
            },
            site.verify_email(token),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_notice_has_texts_in_both_languages_and_the_older_events_keep_theirs() {
        assert!(subjects(&SecurityEvent::PasswordChanged).is_some());
        assert!(shorts(&SecurityEvent::PasswordChanged).is_some());
        for korean in [true, false] {
            let text = paragraphs(&SecurityEvent::PasswordChanged, korean)
                .unwrap()
                .join(" ");
            assert!(
                text.contains(if korean { "비밀번호" } else { "password" }),
                "{text}"
            );
        }
        assert!(subjects(&SecurityEvent::RefreshReuse).is_none());
        assert!(paragraphs(&SecurityEvent::AccountLocked { until: None }, true).is_none());
    }
}
