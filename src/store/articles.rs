//! Articles and their revisions: every upload or edit is a new revision; old
//! ones are kept, so an editor can see what changed and what was rendered.
//! Each revision keeps the person who made it; creating, revising and
//! deleting are recorded in the audit trail in the same transaction.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::audit::{Actor, AuditAction, NewAuditEvent, record_in};
use super::{Store, StoreError, now, sha256_hex};

/// An upload to store as a revision.
#[derive(Debug, Clone)]
pub struct NewRevision {
    pub title: String,
    pub file_name: Option<String>,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Name of the token that uploaded it.
    pub author: String,
}

/// An article as listed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ArticleSummary {
    pub id: i64,
    pub title: String,
    pub latest_revision: i64,
    pub created_at: String,
    pub updated_at: String,
    /// State of the newest render job, if the article was ever rendered.
    pub job_state: Option<String>,
    /// Length of the newest finished render, milliseconds.
    pub duration_ms: Option<i64>,
    /// Bulletins the article is approved for, as `YYYY-MM-DD slot`.
    pub approvals: Vec<String>,
    /// Approval for air: `approved`, `changed` (edited since approval) or `unapproved`.
    pub approval: String,
    /// Who approved the newest approved revision.
    pub approved_by: Option<String>,
    /// Who made the latest revision.
    pub author: String,
}

/// One stored revision (without its body).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Revision {
    pub article_id: i64,
    pub revision: i64,
    pub title: String,
    pub file_name: Option<String>,
    pub content_type: String,
    pub bytes: i64,
    pub body_sha256: String,
    pub author: String,
    pub created_at: String,
    /// The person who made it ('' before persons were recorded).
    pub person: String,
}

/// A revision with the uploaded bytes.
#[derive(Debug, Clone)]
pub struct RevisionBody {
    pub revision: Revision,
    pub body: Vec<u8>,
}

const REVISION_COLUMNS: &str = "article_id, revision, title, file_name, content_type, \
     length(body), body_sha256, author, created_at, person";

fn revision_row(row: &Row<'_>) -> rusqlite::Result<Revision> {
    Ok(Revision {
        article_id: row.get(0)?,
        revision: row.get(1)?,
        title: row.get(2)?,
        file_name: row.get(3)?,
        content_type: row.get(4)?,
        bytes: row.get(5)?,
        body_sha256: row.get(6)?,
        author: row.get(7)?,
        created_at: row.get(8)?,
        person: row.get(9)?,
    })
}

/// The columns `summary_row` reads: the article, its newest job's state, the
/// length of its newest finished render and the bulletins it is approved for.
const SUMMARY_COLUMNS: &str = "id, title, latest_revision, created_at, updated_at, \
     (SELECT j.state FROM render_jobs j WHERE j.article_id = articles.id \
      ORDER BY j.id DESC LIMIT 1), \
     (SELECT a.duration_ms FROM render_jobs j JOIN audio a ON a.cache_key = j.cache_key \
      WHERE j.article_id = articles.id AND j.state = 'done' ORDER BY j.id DESC LIMIT 1), \
     (SELECT group_concat(b.date || ' ' || b.slot, ',') FROM bulletin_items b \
      WHERE b.article_id = articles.id), \
     (SELECT CASE WHEN p.revision = articles.latest_revision THEN 'approved' ELSE 'changed' END \
      FROM article_approvals p WHERE p.article_id = articles.id ORDER BY p.id DESC LIMIT 1), \
     (SELECT p.person FROM article_approvals p WHERE p.article_id = articles.id \
      ORDER BY p.id DESC LIMIT 1), \
     (SELECT CASE WHEN r.person = '' THEN r.author ELSE r.person END FROM article_revisions r \
      WHERE r.article_id = articles.id AND r.revision = articles.latest_revision)";

fn summary_row(row: &Row<'_>) -> rusqlite::Result<ArticleSummary> {
    let approvals: Option<String> = row.get(7)?;
    let mut approvals: Vec<String> = approvals
        .unwrap_or_default()
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    approvals.sort();
    Ok(ArticleSummary {
        id: row.get(0)?,
        title: row.get(1)?,
        latest_revision: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
        job_state: row.get(5)?,
        duration_ms: row.get(6)?,
        approvals,
        approval: row
            .get::<_, Option<String>>(8)?
            .unwrap_or_else(|| "unapproved".into()),
        approved_by: row.get(9)?,
        author: row.get::<_, Option<String>>(10)?.unwrap_or_default(),
    })
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound {
        what: "article",
        id: id.to_string(),
    }
}

/// The error for a missing revision (or, without one, a missing article).
fn revision_not_found(id: i64, revision: Option<i64>) -> StoreError {
    match revision {
        Some(r) => StoreError::NotFound {
            what: "revision",
            id: format!("{r} of article {id}"),
        },
        None => not_found(id),
    }
}

impl Store {
    /// Stores a new article with its first revision; returns (id, revision).
    /// The token name in `new.author` stands for the person.
    ///
    /// # Errors
    /// SQL errors.
    pub fn create_article(&self, new: &NewRevision) -> Result<(i64, i64), StoreError> {
        self.create_article_as(new, &Actor::named(&new.author))
    }

    /// Stores a new article made by `actor`; records it in the audit trail.
    ///
    /// # Errors
    /// SQL errors.
    pub fn create_article_as(
        &self,
        new: &NewRevision,
        actor: &Actor,
    ) -> Result<(i64, i64), StoreError> {
        self.write_sqlite(|tx| {
            let at = now();
            tx.execute(
                "INSERT INTO articles (title, latest_revision, created_at, updated_at) \
                 VALUES (?1, 1, ?2, ?2)",
                params![new.title, at],
            )?;
            let id = tx.last_insert_rowid();
            insert_revision(tx, id, 1, new, &actor.person, &at)?;
            record_in(
                tx,
                &NewAuditEvent {
                    actor: actor.clone(),
                    action: AuditAction::ArticleCreated,
                    article_id: Some(id),
                    revision: Some(1),
                    detail: new.title.clone(),
                },
            )?;
            Ok((id, 1))
        })
    }

    /// Adds a revision to an article (the older ones stay); returns its number.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown article; SQL errors.
    pub fn add_revision(&self, id: i64, new: &NewRevision) -> Result<i64, StoreError> {
        self.add_revision_as(id, new, &Actor::named(&new.author))
    }

    /// Adds a revision made by `actor`; records it in the audit trail. An
    /// approved article is no longer approved: the new revision is not.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown article; SQL errors.
    pub fn add_revision_as(
        &self,
        id: i64,
        new: &NewRevision,
        actor: &Actor,
    ) -> Result<i64, StoreError> {
        self.write_sqlite(|tx| {
            let latest: i64 = tx
                .query_row(
                    "SELECT latest_revision FROM articles WHERE id = ?1 AND deleted_at IS NULL",
                    [id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| not_found(id))?;
            let revision = latest + 1;
            let at = now();
            insert_revision(tx, id, revision, new, &actor.person, &at)?;
            tx.execute(
                "UPDATE articles SET title = ?1, latest_revision = ?2, updated_at = ?3 WHERE id = ?4",
                params![new.title, revision, at, id],
            )?;
            record_in(
                tx,
                &NewAuditEvent {
                    actor: actor.clone(),
                    action: AuditAction::ArticleRevised,
                    article_id: Some(id),
                    revision: Some(revision),
                    detail: new.title.clone(),
                },
            )?;
            Ok(revision)
        })
    }

    /// Articles, most recently changed first.
    ///
    /// # Errors
    /// SQL errors.
    pub fn articles(&self, limit: i64, offset: i64) -> Result<Vec<ArticleSummary>, StoreError> {
        self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {SUMMARY_COLUMNS} FROM articles \
                 WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC LIMIT ?1 OFFSET ?2"
            ))?;
            let rows = stmt.query_map([limit, offset], summary_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Number of stored articles.
    ///
    /// # Errors
    /// SQL errors.
    pub fn article_count(&self) -> Result<i64, StoreError> {
        self.read_sqlite(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM articles WHERE deleted_at IS NULL",
                [],
                |r| r.get(0),
            )?)
        })
    }

    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn article(&self, id: i64) -> Result<ArticleSummary, StoreError> {
        self.read_sqlite(|c| {
            c.prepare_cached(&format!(
                "SELECT {SUMMARY_COLUMNS} FROM articles WHERE id = ?1 AND deleted_at IS NULL"
            ))?
            .query_row([id], summary_row)
            .optional()?
            .ok_or_else(|| not_found(id))
        })
    }

    /// Deletes an article: it disappears from lists and lookups, its
    /// revisions stay (rendered audio and bulletin runs still name them).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown or already deleted article; SQL errors.
    pub fn delete_article(&self, id: i64) -> Result<(), StoreError> {
        self.write_sqlite(|tx| {
            let changed = tx.execute(
                "UPDATE articles SET deleted_at = ?1 WHERE id = ?2 AND deleted_at IS NULL",
                params![now(), id],
            )?;
            if changed == 0 {
                return Err(not_found(id));
            }
            Ok(())
        })
    }

    /// Every revision of an article, oldest first.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn revisions(&self, id: i64) -> Result<Vec<Revision>, StoreError> {
        self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {REVISION_COLUMNS} FROM article_revisions WHERE article_id = ?1 ORDER BY revision"
            ))?;
            let rows: Vec<Revision> = stmt
                .query_map([id], revision_row)?
                .collect::<Result<_, _>>()?;
            if rows.is_empty() {
                return Err(not_found(id));
            }
            Ok(rows)
        })
    }

    /// The number of a revision that exists (the latest when `revision` is
    /// `None`), without its bytes: what a cached script is looked up by.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown article or revision; SQL errors.
    pub fn revision_number(&self, id: i64, revision: Option<i64>) -> Result<i64, StoreError> {
        self.read_sqlite(|c| {
            c.prepare_cached(
                "SELECT revision FROM article_revisions \
                 WHERE article_id = ?1 AND revision = coalesce(?2, \
                   (SELECT latest_revision FROM articles WHERE id = ?1))",
            )?
            .query_row(params![id, revision], |row| row.get(0))
            .optional()?
            .ok_or_else(|| revision_not_found(id, revision))
        })
    }

    /// A revision with its bytes; the latest when `revision` is `None`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown article or revision; SQL errors.
    pub fn revision_body(
        &self,
        id: i64,
        revision: Option<i64>,
    ) -> Result<RevisionBody, StoreError> {
        self.read_sqlite(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {REVISION_COLUMNS}, body FROM article_revisions \
                 WHERE article_id = ?1 AND revision = coalesce(?2, \
                   (SELECT latest_revision FROM articles WHERE id = ?1))"
            ))?;
            stmt.query_row(params![id, revision], |row| {
                Ok(RevisionBody {
                    revision: revision_row(row)?,
                    body: row.get(10)?,
                })
            })
            .optional()?
            .ok_or_else(|| revision_not_found(id, revision))
        })
    }
}

fn insert_revision(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    revision: i64,
    new: &NewRevision,
    person: &str,
    at: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO article_revisions (article_id, revision, title, file_name, content_type, \
         body, body_sha256, author, created_at, person) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            revision,
            new.title,
            new.file_name,
            new.content_type,
            new.body,
            sha256_hex(&new.body),
            new.author,
            at,
            person
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(title: &str) -> NewRevision {
        NewRevision {
            title: title.into(),
            file_name: Some("a.txt".into()),
            content_type: "text/plain".into(),
            body: title.as_bytes().to_vec(),
            author: "test".into(),
        }
    }

    #[test]
    fn revisions_keep_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (id, first) = store.create_article(&upload("Một")).unwrap();
        assert_eq!(first, 1);
        assert_eq!(store.add_revision(id, &upload("Hai")).unwrap(), 2);
        assert_eq!(store.article(id).unwrap().title, "Hai");
        assert_eq!(store.revisions(id).unwrap().len(), 2);
        assert_eq!(
            store.revision_body(id, None).unwrap().body,
            "Hai".as_bytes()
        );
        assert_eq!(
            store.revision_body(id, Some(1)).unwrap().body,
            "Một".as_bytes()
        );
        assert!(matches!(
            store.revision_body(id, Some(3)),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.add_revision(999, &upload("x")),
            Err(StoreError::NotFound { .. })
        ));
    }
}
