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
        SecurityEvent::AccountLocked { .. } | SecurityEvent::RefreshReuse => None,
    }
}

/// The subject's short form, in Korean and in English.
pub fn shorts(event: &SecurityEvent) -> Option<(&'static str, &'static str)> {
    match event {
        SecurityEvent::PasswordChanged => Some(("비밀번호 변경", "Password changed")),
        SecurityEvent::PasswordReset { .. } => Some(("비밀번호 재설정", "Password reset")),
        SecurityEvent::VerifyEmail { .. } => Some(("이메일 확인", "Verify your email")),
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
