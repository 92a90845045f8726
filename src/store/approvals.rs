//! Approval for air: an approver approves an article's revision; the
//! article is approved while that revision is still its latest. An edit
//! makes a new revision, which needs approving again. Approvals are kept
//! (append-only), so the page can show what changed since the last one.
//!
//! Station-scoped through the article: every method first finds the
//! article among the store's station's articles, so another station's
//! article (and its approvals) is simply not found.

use serde::Serialize;

use super::audit::{Actor, AuditAction, NewAuditEvent, record_in};
use super::db::{Db, params};
use super::{StationId, Store, StoreError, now};

/// One approval of a revision.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Approval {
    pub article_id: i64,
    pub revision: i64,
    pub person: String,
    pub approved_at: String,
}

/// Where an article stands with approval.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApprovalState {
    /// `approved` (its latest revision), `changed` (an earlier revision was
    /// approved, then it was edited) or `unapproved` (never approved).
    pub status: &'static str,
    pub latest_revision: i64,
    /// The newest approval, of whichever revision.
    pub last: Option<Approval>,
}

impl ApprovalState {
    pub fn is_approved(&self) -> bool {
        self.status == "approved"
    }
}

fn state_of(latest_revision: i64, last: Option<Approval>) -> ApprovalState {
    let status = match &last {
        Some(a) if a.revision == latest_revision => "approved",
        Some(_) => "changed",
        None => "unapproved",
    };
    ApprovalState {
        status,
        latest_revision,
        last,
    }
}

/// The newest approval of an article already found in the station
/// ([`live_article`]).
fn last_approval(db: &Db<'_>, id: i64) -> Result<Option<Approval>, StoreError> {
    db.query_opt(
        "SELECT article_id, revision, person, approved_at FROM article_approvals \
         WHERE article_id = ?1 ORDER BY id DESC LIMIT 1",
        [id],
        |r| {
            Ok(Approval {
                article_id: r.get(0)?,
                revision: r.get(1)?,
                person: r.get(2)?,
                approved_at: r.get(3)?,
            })
        },
    )
}

/// The title and latest revision of a live article of `station`.
fn live_article(db: &Db<'_>, station: StationId, id: i64) -> Result<(String, i64), StoreError> {
    db.query_opt(
        "SELECT title, latest_revision FROM articles \
         WHERE id = ?1 AND station_id = ?2 AND deleted_at IS NULL",
        [id, station],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?
    .ok_or_else(|| StoreError::NotFound {
        what: "article",
        id: id.to_string(),
    })
}

impl Store {
    /// Approves the article's latest revision for air (again approving an
    /// approved one changes nothing); records it in the audit trail.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown or deleted article; SQL errors.
    pub fn approve_article(&self, id: i64, actor: &Actor) -> Result<ApprovalState, StoreError> {
        let station = self.station();
        self.write(|db| {
            let (_, latest) = live_article(db, station, id)?;
            if let Some(last) = last_approval(db, id)?
                && last.revision == latest
            {
                return Ok(state_of(latest, Some(last)));
            }
            let at = now();
            db.execute(
                "INSERT INTO article_approvals (article_id, revision, person, token, approved_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, latest, actor.person, actor.token, at],
            )?;
            record_in(
                db,
                station,
                &NewAuditEvent {
                    actor: actor.clone(),
                    action: AuditAction::ArticleApproved,
                    article_id: Some(id),
                    revision: Some(latest),
                    detail: String::new(),
                },
            )?;
            Ok(state_of(
                latest,
                Some(Approval {
                    article_id: id,
                    revision: latest,
                    person: actor.person.clone(),
                    approved_at: at,
                }),
            ))
        })
    }

    /// Where an article stands with approval.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn approval_state(&self, id: i64) -> Result<ApprovalState, StoreError> {
        let station = self.station();
        self.read(|db| {
            let (_, latest) = live_article(db, station, id)?;
            Ok(state_of(latest, last_approval(db, id)?))
        })
    }

    /// Refuses articles whose latest revision is not approved, naming each
    /// with its title and why (never approved, or changed since approval).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] naming the articles; [`StoreError::NotFound`]
    /// for an unknown article; SQL errors.
    pub fn require_approved(&self, ids: &[i64]) -> Result<(), StoreError> {
        let mut problems = Vec::new();
        let station = self.station();
        self.read(|db| {
            for &id in ids {
                let (title, latest) = live_article(db, station, id)?;
                let state = state_of(latest, last_approval(db, id)?);
                if state.is_approved() {
                    continue;
                }
                problems.push(match state.status {
                    "changed" => format!("«{title}» đã sửa sau khi duyệt (changed since approval)"),
                    _ => format!("«{title}» chưa được duyệt (not approved)"),
                });
            }
            Ok(())
        })?;
        if problems.is_empty() {
            return Ok(());
        }
        Err(StoreError::Conflict(format!(
            "Chỉ bài đã duyệt mới vào được bản tin: {}. Nhờ người duyệt duyệt bài trước.",
            problems.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewRevision, testing};

    fn upload(text: &str) -> NewRevision {
        NewRevision {
            title: text.into(),
            file_name: None,
            content_type: "text/plain".into(),
            body: text.as_bytes().to_vec(),
            author: "ed".into(),
        }
    }

    #[test]
    fn an_edit_after_approval_needs_approving_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let (id, _) = store.create_article(&upload("Tin một")).unwrap();
        let approver = Actor {
            person: "Trần Thị B".into(),
            token: "b".into(),
        };
        assert_eq!(store.approval_state(id).unwrap().status, "unapproved");
        let message = store.require_approved(&[id]).unwrap_err().to_string();
        assert!(message.contains("«Tin một» chưa được duyệt"), "{message}");
        let state = store.approve_article(id, &approver).unwrap();
        assert!(state.is_approved());
        store.require_approved(&[id]).unwrap();
        store.add_revision(id, &upload("Tin một, sửa")).unwrap();
        let state = store.approval_state(id).unwrap();
        assert_eq!((state.status, state.last.unwrap().revision), ("changed", 1));
        let message = store.require_approved(&[id]).unwrap_err().to_string();
        assert!(message.contains("đã sửa sau khi duyệt"), "{message}");
        store.approve_article(id, &approver).unwrap();
        store.approve_article(id, &approver).unwrap();
        store.require_approved(&[id]).unwrap();
        let approvals: i64 = store
            .read(|db| {
                db.query_row("SELECT count(*) FROM article_approvals", params![], |r| {
                    r.get(0)
                })
            })
            .unwrap();
        assert_eq!(
            approvals, 2,
            "approving an approved revision again adds nothing"
        );
    }

    #[test]
    fn another_station_can_neither_see_nor_approve_an_article() {
        let dir = tempfile::tempdir().unwrap();
        let first = testing::open(dir.path());
        let second = testing::add_station(&first, "thu-hai").unwrap();
        let (id, _) = first.create_article(&upload("Tin đài một")).unwrap();
        let approver = Actor {
            person: "Lê Văn C".into(),
            token: "c".into(),
        };
        first.approve_article(id, &approver).unwrap();

        let missing = |result: Result<(), StoreError>, call: &str| {
            assert!(
                matches!(result, Err(StoreError::NotFound { .. })),
                "{call} reached the other station's article"
            );
        };
        missing(second.approval_state(id).map(drop), "approval_state");
        missing(second.require_approved(&[id]), "require_approved");
        missing(
            second.approve_article(id, &approver).map(drop),
            "approve_article",
        );

        // The second station's attempts left the first station's approval alone.
        first.add_revision(id, &upload("Tin đài một, sửa")).unwrap();
        missing(
            second.approve_article(id, &approver).map(drop),
            "approve_article again",
        );
        let state = first.approval_state(id).unwrap();
        assert_eq!((state.status, state.last.unwrap().revision), ("changed", 1));
        assert!(
            second
                .audit_events(&crate::store::AuditFilter {
                    limit: 10,
                    ..Default::default()
                })
                .unwrap()
                .is_empty()
        );
    }
}
