//! The audit trail: what was done to articles, the lexicon, bulletins and
//! tokens, by whom and when. Append-only: the schema's triggers refuse
//! UPDATE and DELETE, so nothing written here can be changed or removed.
//! Knows nothing of time zones; callers turn a station day into an instant
//! range ([`AuditFilter::from`], [`AuditFilter::until`]).
//!
//! Station-scoped: each station has its own trail; an event is recorded
//! for the station of the store (or of the transaction) that did the deed,
//! and a store lists only its own station's events and persons.

use jiff::Timestamp;
use serde::Serialize;

use super::db::{Db, Row, params};
use super::{ApiToken, StationId, Store, StoreError};

/// Who acted: the person and the token they used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub person: String,
    pub token: String,
}

impl Actor {
    /// The service itself (a bulletin it assembled and delivered).
    pub fn system() -> Actor {
        Actor {
            person: "Hệ thống bantin".into(),
            token: String::new(),
        }
    }
}

impl Actor {
    /// A token known only by its name (the CLI, older callers).
    pub fn named(token: &str) -> Actor {
        Actor {
            person: token.to_string(),
            token: token.to_string(),
        }
    }
}

impl From<&ApiToken> for Actor {
    fn from(token: &ApiToken) -> Actor {
        Actor {
            person: token.who(),
            token: token.name.clone(),
        }
    }
}

/// What happened. Stored as its `as_str` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ArticleCreated,
    ArticleRevised,
    ArticleDeleted,
    ArticleApproved,
    LexiconAdded,
    LexiconRemoved,
    RenderRequested,
    BulletinArranged,
    BulletinBuildRequested,
    BulletinDelivered,
    TokenCreated,
    TokenRevoked,
}

impl AuditAction {
    pub const ALL: [AuditAction; 12] = [
        AuditAction::ArticleCreated,
        AuditAction::ArticleRevised,
        AuditAction::ArticleDeleted,
        AuditAction::ArticleApproved,
        AuditAction::LexiconAdded,
        AuditAction::LexiconRemoved,
        AuditAction::RenderRequested,
        AuditAction::BulletinArranged,
        AuditAction::BulletinBuildRequested,
        AuditAction::BulletinDelivered,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ArticleCreated => "article_created",
            AuditAction::ArticleRevised => "article_revised",
            AuditAction::ArticleDeleted => "article_deleted",
            AuditAction::ArticleApproved => "article_approved",
            AuditAction::LexiconAdded => "lexicon_added",
            AuditAction::LexiconRemoved => "lexicon_removed",
            AuditAction::RenderRequested => "render_requested",
            AuditAction::BulletinArranged => "bulletin_arranged",
            AuditAction::BulletinBuildRequested => "bulletin_build_requested",
            AuditAction::BulletinDelivered => "bulletin_delivered",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
        }
    }

    /// The action as the newsroom says it.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::ArticleCreated => "Tạo bài",
            AuditAction::ArticleRevised => "Sửa bài",
            AuditAction::ArticleDeleted => "Xóa bài",
            AuditAction::ArticleApproved => "Duyệt phát sóng",
            AuditAction::LexiconAdded => "Sửa cách đọc",
            AuditAction::LexiconRemoved => "Bỏ cách đọc",
            AuditAction::RenderRequested => "Đọc thành âm thanh",
            AuditAction::BulletinArranged => "Xếp bản tin",
            AuditAction::BulletinBuildRequested => "Yêu cầu dựng bản tin",
            AuditAction::BulletinDelivered => "Giao bản tin",
            AuditAction::TokenCreated => "Cấp khóa truy cập",
            AuditAction::TokenRevoked => "Thu hồi khóa truy cập",
        }
    }

    fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub actor: Actor,
    pub action: AuditAction,
    pub article_id: Option<i64>,
    pub revision: Option<i64>,
    /// What exactly: the lexicon entry, the bulletin, the delivered file.
    pub detail: String,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub person: String,
    pub token: String,
    /// `article_approved`, `lexicon_added`, … (see [`AuditAction`]).
    pub action: String,
    /// The action in Vietnamese.
    pub action_label: String,
    pub article_id: Option<i64>,
    pub revision: Option<i64>,
    pub detail: String,
}

/// Which events to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub article_id: Option<i64>,
    /// The exact person.
    pub person: Option<String>,
    /// At or after this instant.
    pub from: Option<Timestamp>,
    /// Before this instant.
    pub until: Option<Timestamp>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// An instant as stored: RFC 3339 UTC with six fractional digits, so text
/// order is time order.
pub(crate) fn instant_text(at: Timestamp) -> String {
    format!("{at:.6}")
}

/// Records `event` for `station` inside a transaction another store method holds.
pub(crate) fn record_in(
    db: &Db<'_>,
    station: StationId,
    event: &NewAuditEvent,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO audit_events (station_id, at, person, token, action, article_id, \
         revision, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            station,
            instant_text(Timestamp::now()),
            event.actor.person,
            event.actor.token,
            event.action.as_str(),
            event.article_id,
            event.revision,
            event.detail
        ],
    )?;
    Ok(())
}

fn event_row(row: &Row) -> Result<AuditEvent, StoreError> {
    let action: String = row.get(4)?;
    Ok(AuditEvent {
        id: row.get(0)?,
        at: row.get(1)?,
        person: row.get(2)?,
        token: row.get(3)?,
        action_label: AuditAction::parse(&action)
            .map_or_else(|| action.clone(), |a| a.label().to_string()),
        action,
        article_id: row.get(5)?,
        revision: row.get(6)?,
        detail: row.get(7)?,
    })
}

impl Store {
    /// Records one event.
    ///
    /// # Errors
    /// SQL errors.
    pub fn record_audit(&self, event: &NewAuditEvent) -> Result<(), StoreError> {
        let station = self.station();
        self.write(|db| record_in(db, station, event))
    }

    /// Events matching `filter`, newest first.
    ///
    /// # Errors
    /// SQL errors.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let from = filter.from.map(instant_text);
        let until = filter.until.map(instant_text);
        let station = self.station();
        self.read(|db| {
            db.query_map(
                "SELECT id, at, person, token, action, article_id, revision, detail \
                 FROM audit_events \
                 WHERE station_id = ?1 \
                   AND (CAST(?2 AS BIGINT) IS NULL OR article_id = CAST(?2 AS BIGINT)) \
                   AND (CAST(?3 AS TEXT) IS NULL OR person = CAST(?3 AS TEXT)) \
                   AND (CAST(?4 AS TEXT) IS NULL OR at >= CAST(?4 AS TEXT)) \
                   AND (CAST(?5 AS TEXT) IS NULL OR at < CAST(?5 AS TEXT)) \
                 ORDER BY id DESC LIMIT ?6",
                params![
                    station,
                    filter.article_id,
                    filter.person,
                    from,
                    until,
                    filter.limit
                ],
                event_row,
            )
        })
    }

    /// The persons who appear in the station's trail, by name (for the
    /// page's filter).
    ///
    /// # Errors
    /// SQL errors.
    pub fn audit_persons(&self) -> Result<Vec<String>, StoreError> {
        let station = self.station();
        let mut persons: Vec<String> = self.read(|db| {
            db.query_map(
                "SELECT DISTINCT person FROM audit_events WHERE station_id = ?1",
                [station],
                |r| r.get(0),
            )
        })?;
        // Sorted here: the engines' text collations differ.
        persons.sort();
        Ok(persons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    fn event(person: &str, action: AuditAction, article: Option<i64>) -> NewAuditEvent {
        NewAuditEvent {
            actor: Actor {
                person: person.into(),
                token: "t".into(),
            },
            action,
            article_id: article,
            revision: None,
            detail: String::new(),
        }
    }

    #[test]
    fn the_trail_filters_and_refuses_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let before = Timestamp::now();
        store
            .record_audit(&event("Nguyễn Văn A", AuditAction::LexiconAdded, None))
            .unwrap();
        store
            .record_audit(&event("Trần Thị B", AuditAction::ArticleApproved, Some(7)))
            .unwrap();
        let all = AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        };
        let events = store.audit_events(&all).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].action_label, "Duyệt phát sóng");
        assert!(
            events[0].at.ends_with('Z') && events[0].at.len() == 27,
            "{}",
            events[0].at
        );
        let by_article = AuditFilter {
            article_id: Some(7),
            ..all.clone()
        };
        assert_eq!(
            store.audit_events(&by_article).unwrap()[0].person,
            "Trần Thị B"
        );
        let by_person = AuditFilter {
            person: Some("Nguyễn Văn A".into()),
            ..all.clone()
        };
        assert_eq!(store.audit_events(&by_person).unwrap().len(), 1);
        let earlier_day = AuditFilter {
            until: Some(before),
            ..all.clone()
        };
        assert!(store.audit_events(&earlier_day).unwrap().is_empty());
        for sql in [
            "UPDATE audit_events SET person = 'x'",
            "DELETE FROM audit_events",
        ] {
            let refused = store.write(|db| db.execute(sql, params![]));
            assert!(
                refused.unwrap_err().to_string().contains("append-only"),
                "{sql} went through"
            );
        }
        assert_eq!(store.audit_events(&all).unwrap().len(), 2);
    }

    #[test]
    fn each_station_has_its_own_trail() {
        let dir = tempfile::tempdir().unwrap();
        let first = testing::open(dir.path());
        let second = testing::add_station(&first, "thu-hai").unwrap();
        first
            .record_audit(&event(
                "Nguyễn Văn A",
                AuditAction::ArticleApproved,
                Some(7),
            ))
            .unwrap();
        let all = AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        };
        assert!(second.audit_events(&all).unwrap().is_empty());
        let by_article = AuditFilter {
            article_id: Some(7),
            ..all.clone()
        };
        assert!(second.audit_events(&by_article).unwrap().is_empty());
        let by_person = AuditFilter {
            person: Some("Nguyễn Văn A".into()),
            ..all.clone()
        };
        assert!(second.audit_events(&by_person).unwrap().is_empty());
        assert!(second.audit_persons().unwrap().is_empty());

        second
            .record_audit(&event("Phạm Thị D", AuditAction::LexiconAdded, None))
            .unwrap();
        assert_eq!(second.audit_persons().unwrap(), ["Phạm Thị D"]);
        assert_eq!(first.audit_persons().unwrap(), ["Nguyễn Văn A"]);
        let events = first.audit_events(&all).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].person, "Nguyễn Văn A");
    }
}
