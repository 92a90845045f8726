//! Articles and their revisions: every upload or edit is a new revision; old
//! ones are kept, so an editor can see what changed and what was rendered.
//! Each revision keeps the person who made it; creating, revising and
//! deleting are recorded in the audit trail in the same transaction.
//!
//! Station-scoped: every article belongs to the station of the store that
//! made it, and a store sees only its own station's articles; revisions
//! are reached through their article. Another station's article is simply
//! not found.

use std::collections::HashMap;

use serde::Serialize;

use super::audit::{Actor, AuditAction, NewAuditEvent, record_in};
use super::db::{Db, Param, Row, params};
use super::{StationId, Store, StoreError, now, sha256_hex};

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

/// The columns `revision_row` reads, of the revision `r`.
const REVISION_COLUMNS: &str = "r.article_id, r.revision, r.title, r.file_name, \
     r.content_type, length(r.body), r.body_sha256, r.author, r.created_at, r.person";

fn revision_row(row: &Row) -> Result<Revision, StoreError> {
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
/// length of its newest finished render, its approval and the author of its
/// latest revision. The bulletins it is approved for are read apart
/// ([`attach_bulletins`]).
const SUMMARY_COLUMNS: &str = "id, title, latest_revision, created_at, updated_at, \
     (SELECT j.state FROM render_jobs j WHERE j.article_id = articles.id \
      ORDER BY j.id DESC LIMIT 1), \
     (SELECT a.duration_ms FROM render_jobs j JOIN audio a ON a.cache_key = j.cache_key \
      WHERE j.article_id = articles.id AND j.state = 'done' ORDER BY j.id DESC LIMIT 1), \
     (SELECT CASE WHEN p.revision = articles.latest_revision THEN 'approved' ELSE 'changed' END \
      FROM article_approvals p WHERE p.article_id = articles.id ORDER BY p.id DESC LIMIT 1), \
     (SELECT p.person FROM article_approvals p WHERE p.article_id = articles.id \
      ORDER BY p.id DESC LIMIT 1), \
     (SELECT CASE WHEN r.person = '' THEN r.author ELSE r.person END FROM article_revisions r \
      WHERE r.article_id = articles.id AND r.revision = articles.latest_revision)";

fn summary_row(row: &Row) -> Result<ArticleSummary, StoreError> {
    Ok(ArticleSummary {
        id: row.get(0)?,
        title: row.get(1)?,
        latest_revision: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
        job_state: row.get(5)?,
        duration_ms: row.get(6)?,
        approvals: Vec::new(),
        approval: row
            .get::<Option<String>>(7)?
            .unwrap_or_else(|| "unapproved".into()),
        approved_by: row.get(8)?,
        author: row.get::<Option<String>>(9)?.unwrap_or_default(),
    })
}

/// Fills each summary's `approvals` with the bulletins its article is
/// approved for (`YYYY-MM-DD slot`, sorted), in one query for the lot.
fn attach_bulletins(
    db: &Db<'_>,
    station: StationId,
    summaries: &mut [ArticleSummary],
) -> Result<(), StoreError> {
    if summaries.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..summaries.len())
        .map(|i| format!("?{}", i + 2))
        .collect();
    let sql = format!(
        "SELECT article_id, date, slot FROM bulletin_items \
         WHERE station_id = ?1 AND article_id IN ({})",
        placeholders.join(", ")
    );
    let mut values = vec![Param::Int(station)];
    values.extend(summaries.iter().map(|s| Param::Int(s.id)));
    let mut by_article: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, bulletin) in db.query_map(&sql, values, |r| {
        Ok((
            r.get::<i64>(0)?,
            format!("{} {}", r.get::<String>(1)?, r.get::<String>(2)?),
        ))
    })? {
        by_article.entry(id).or_default().push(bulletin);
    }
    for summary in summaries {
        let mut approvals = by_article.remove(&summary.id).unwrap_or_default();
        approvals.sort();
        summary.approvals = approvals;
    }
    Ok(())
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
        let station = self.station();
        self.write(|db| {
            let at = now();
            let id: i64 = db.query_row(
                "INSERT INTO articles (station_id, title, latest_revision, created_at, updated_at) \
                 VALUES (?1, ?2, 1, ?3, ?3) RETURNING id",
                params![station, new.title, at],
                |r| r.get(0),
            )?;
            insert_revision(db, id, 1, new, &actor.person, &at)?;
            record_in(
                db,
                station,
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
        let station = self.station();
        self.write(|db| {
            let latest: i64 = db
                .query_opt(
                    "SELECT latest_revision FROM articles \
                     WHERE id = ?1 AND station_id = ?2 AND deleted_at IS NULL",
                    [id, station],
                    |r| r.get(0),
                )?
                .ok_or_else(|| not_found(id))?;
            let revision = latest + 1;
            let at = now();
            insert_revision(db, id, revision, new, &actor.person, &at)?;
            db.execute(
                "UPDATE articles SET title = ?1, latest_revision = ?2, updated_at = ?3 \
                 WHERE id = ?4 AND station_id = ?5",
                params![new.title, revision, at, id, station],
            )?;
            record_in(
                db,
                station,
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
        let station = self.station();
        self.read(|db| {
            let mut summaries = db.query_map(
                &format!(
                    "SELECT {SUMMARY_COLUMNS} FROM articles \
                     WHERE station_id = ?1 AND deleted_at IS NULL \
                     ORDER BY updated_at DESC, id DESC LIMIT ?2 OFFSET ?3"
                ),
                [station, limit, offset],
                summary_row,
            )?;
            attach_bulletins(db, station, &mut summaries)?;
            Ok(summaries)
        })
    }

    /// Number of stored articles.
    ///
    /// # Errors
    /// SQL errors.
    pub fn article_count(&self) -> Result<i64, StoreError> {
        let station = self.station();
        self.read(|db| {
            db.query_row(
                "SELECT count(*) FROM articles WHERE station_id = ?1 AND deleted_at IS NULL",
                [station],
                |r| r.get(0),
            )
        })
    }

    /// # Errors
    /// [`StoreError::NotFound`]; SQL errors.
    pub fn article(&self, id: i64) -> Result<ArticleSummary, StoreError> {
        let station = self.station();
        self.read(|db| {
            let mut summary = db
                .query_opt(
                    &format!(
                        "SELECT {SUMMARY_COLUMNS} FROM articles \
                         WHERE id = ?1 AND station_id = ?2 AND deleted_at IS NULL"
                    ),
                    [id, station],
                    summary_row,
                )?
                .ok_or_else(|| not_found(id))?;
            attach_bulletins(db, station, std::slice::from_mut(&mut summary))?;
            Ok(summary)
        })
    }

    /// Deletes an article: it disappears from lists and lookups, its
    /// revisions stay (rendered audio and bulletin runs still name them).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown or already deleted article; SQL errors.
    pub fn delete_article(&self, id: i64) -> Result<(), StoreError> {
        let station = self.station();
        self.write(|db| {
            let changed = db.execute(
                "UPDATE articles SET deleted_at = ?1 \
                 WHERE id = ?2 AND station_id = ?3 AND deleted_at IS NULL",
                params![now(), id, station],
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
        let station = self.station();
        self.read(|db| {
            let rows = db.query_map(
                &format!(
                    "SELECT {REVISION_COLUMNS} FROM article_revisions r \
                     JOIN articles a ON a.id = r.article_id \
                     WHERE r.article_id = ?1 AND a.station_id = ?2 ORDER BY r.revision"
                ),
                [id, station],
                revision_row,
            )?;
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
        let station = self.station();
        self.read(|db| {
            db.query_opt(
                &format!("SELECT r.revision {REVISION_OF_ARTICLE}"),
                params![id, revision, station],
                |row| row.get(0),
            )?
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
        let station = self.station();
        self.read(|db| {
            db.query_opt(
                &format!("SELECT {REVISION_COLUMNS}, r.body {REVISION_OF_ARTICLE}"),
                params![id, revision, station],
                |row| {
                    Ok(RevisionBody {
                        revision: revision_row(row)?,
                        body: row.get(10)?,
                    })
                },
            )?
            .ok_or_else(|| revision_not_found(id, revision))
        })
    }
}

/// `FROM … WHERE …` picking revision `?2` (the latest when it is null) of
/// article `?1`, which must belong to station `?3`; the revision is `r`.
/// A deleted article's revisions stay readable (rendered audio names them).
const REVISION_OF_ARTICLE: &str = "FROM article_revisions r \
     JOIN articles a ON a.id = r.article_id \
     WHERE r.article_id = ?1 AND a.station_id = ?3 \
       AND r.revision = COALESCE(CAST(?2 AS BIGINT), a.latest_revision)";

fn insert_revision(
    db: &Db<'_>,
    id: i64,
    revision: i64,
    new: &NewRevision,
    person: &str,
    at: &str,
) -> Result<(), StoreError> {
    db.execute(
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
    use crate::store::testing;

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
        let store = testing::open(dir.path());
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

    #[test]
    fn another_station_sees_and_changes_none_of_the_articles() {
        let dir = tempfile::tempdir().unwrap();
        let first = testing::open(dir.path());
        let second = testing::add_station(&first, "thu-hai").unwrap();
        let (id, _) = first.create_article(&upload("Tin đài một")).unwrap();
        first.add_revision(id, &upload("Tin đài một, sửa")).unwrap();
        let date: jiff::civil::Date = "2026-12-06".parse().unwrap();
        first.approve_bulletin(date, "sang", &[id], "ed").unwrap();

        assert!(second.articles(100, 0).unwrap().is_empty());
        assert_eq!(second.article_count().unwrap(), 0);
        let missing = |result: Result<_, StoreError>, call: &str| {
            assert!(
                matches!(result, Err(StoreError::NotFound { .. })),
                "{call} reached the other station's article"
            );
        };
        missing(second.article(id).map(drop), "article");
        missing(second.revisions(id).map(drop), "revisions");
        missing(
            second.revision_number(id, None).map(drop),
            "revision_number",
        );
        missing(
            second.revision_number(id, Some(1)).map(drop),
            "revision_number 1",
        );
        missing(second.revision_body(id, None).map(drop), "revision_body");
        missing(
            second.revision_body(id, Some(1)).map(drop),
            "revision_body 1",
        );
        missing(
            second.add_revision(id, &upload("Chen vào")).map(drop),
            "add_revision",
        );
        missing(second.delete_article(id), "delete_article");

        // The second station's own article is not the first station's.
        let (own, _) = second.create_article(&upload("Tin đài hai")).unwrap();
        assert_ne!(own, id);
        assert_eq!(second.articles(100, 0).unwrap().len(), 1);
        assert!(second.article(own).unwrap().approvals.is_empty());

        let article = first.article(id).unwrap();
        assert_eq!(
            (article.title.as_str(), article.latest_revision),
            ("Tin đài một, sửa", 2)
        );
        assert_eq!(article.approvals, ["2026-12-06 sang"]);
        assert_eq!(first.article_count().unwrap(), 1);
        assert_eq!(first.revisions(id).unwrap().len(), 2);
        missing(
            first.article(own).map(drop),
            "the first station reading the second's",
        );
    }

    #[test]
    fn a_list_names_each_article_s_bulletins_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let store = testing::open(dir.path());
        let (a, _) = store.create_article(&upload("Một")).unwrap();
        let (b, _) = store.create_article(&upload("Hai")).unwrap();
        let day = |d: &str| d.parse::<jiff::civil::Date>().unwrap();
        store
            .approve_bulletin(day("2026-12-07"), "sang", &[a], "ed")
            .unwrap();
        store
            .approve_bulletin(day("2026-12-06"), "trua", &[b, a], "ed")
            .unwrap();
        let list = store.articles(10, 0).unwrap();
        let approvals = |id: i64| {
            list.iter()
                .find(|s| s.id == id)
                .map(|s| s.approvals.clone())
                .unwrap()
        };
        assert_eq!(approvals(a), ["2026-12-06 trua", "2026-12-07 sang"]);
        assert_eq!(approvals(b), ["2026-12-06 trua"]);
        assert_eq!(store.article(a).unwrap().approvals, approvals(a));
        assert_eq!(store.articles(1, 1).unwrap().len(), 1);
    }
}
