//! Approval for air: an approver approves an article's revision; the
//! article is approved while that revision is still its latest. An edit
//! makes a new revision, which needs approving again. Approvals are kept
//! (append-only), so the page can show what changed since the last one.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::audit::{Actor, AuditAction, NewAuditEvent, record_in};
use super::{Store, StoreError, now};

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

fn last_approval(c: &rusqlite::Connection, id: i64) -> Result<Option<Approval>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT article_id, revision, person, approved_at FROM article_approvals \
         WHERE article_id = ?1 ORDER BY id DESC LIMIT 1",
    )?
    .query_row([id], |r| {
        Ok(Approval {
            article_id: r.get(0)?,
            revision: r.get(1)?,
            person: r.get(2)?,
            approved_at: r.get(3)?,
        })
    })
    .optional()?)
}

fn latest_revision(c: &rusqlite::Connection, id: i64) -> Result<i64, StoreError> {
    c.prepare_cached("SELECT latest_revision FROM articles WHERE id = ?1 AND deleted_at IS NULL")?
        .query_row([id], |r| r.get(0))
        .optional()?
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
        self.write_sqlite(|tx| {
            let latest = latest_revision(tx, id)?;
            if let Some(last) = last_approval(tx, id)?
                && last.revision == latest
            {
                return Ok(state_of(latest, Some(last)));
            }
            let at = now();
            tx.execute(
                "INSERT INTO article_approvals (article_id, revision, person, token, approved_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, latest, actor.person, actor.token, at],
            )?;
            record_in(
                tx,
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
        self.read_sqlite(|c| {
            let latest = latest_revision(c, id)?;
            Ok(state_of(latest, last_approval(c, id)?))
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
        self.read_sqlite(|c| {
            for &id in ids {
                let latest = latest_revision(c, id)?;
                let state = state_of(latest, last_approval(c, id)?);
                if state.is_approved() {
                    continue;
                }
                let title: String =
                    c.query_row("SELECT title FROM articles WHERE id = ?1", [id], |r| {
                        r.get(0)
                    })?;
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
    use crate::store::NewRevision;

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
        let store = Store::open(dir.path()).unwrap();
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
            .read_sqlite(|c| {
                Ok(c.query_row("SELECT count(*) FROM article_approvals", [], |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(
            approvals, 2,
            "approving an approved revision again adds nothing"
        );
    }
}
