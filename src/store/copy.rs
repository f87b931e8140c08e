//! Copies of a whole store as bytes (SQLite's serialize and deserialize),
//! for sessions: each gets a private in-memory store made from one image of
//! the seeded data in milliseconds, and a session's reset puts the image
//! back (no snapshots of its own: half the memory, and as fast).

use super::Store;

/// A store's databases as bytes: its data, and its seeded snapshots if taken.
#[derive(Debug, Clone)]
pub struct Image {
    /// The `main` database.
    main: Vec<u8>,
    /// The `seeded` database (the snapshots resets restore), if taken.
    seeded: Option<Vec<u8>>,
}

impl Image {
    /// How many bytes the image holds (about what a store made from it takes).
    pub fn size(&self) -> usize {
        self.main.len() + self.seeded.as_ref().map_or(0, Vec::len)
    }
}

/// The database `bytes` marked as using a rollback journal: a file's WAL
/// mode (header bytes 18 and 19 set to 2) cannot be opened in memory.
fn rollback_journal(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(versions) = bytes.get_mut(18..20)
        && versions == [2, 2]
    {
        versions.copy_from_slice(&[1, 1]);
    }
    bytes
}

impl Store {
    /// How many bytes this store's data takes now (its pages).
    pub fn bytes(&self) -> rusqlite::Result<usize> {
        let held = self.lock();
        let (pages, size): (i64, i64) = held.connection.query_row(
            "SELECT page_count, page_size FROM pragma_page_count, pragma_page_size",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(usize::try_from(pages.saturating_mul(size)).unwrap_or(usize::MAX))
    }

    /// An image of this store's data as it is now.
    pub fn image(&self) -> rusqlite::Result<Image> {
        let mut held = self.lock();
        let connection: &mut rusqlite::Connection = &mut held.connection;
        let main = rollback_journal(connection.serialize(rusqlite::MAIN_DB)?.to_vec());
        Ok(Image { main, seeded: None })
    }

    /// An image of this store's data and seeded snapshots as they are now.
    pub fn image_with_snapshots(&self) -> rusqlite::Result<Image> {
        let mut image = self.image()?;
        let mut held = self.lock();
        let connection: &mut rusqlite::Connection = &mut held.connection;
        image.seeded = Some(rollback_journal(connection.serialize("seeded")?.to_vec()));
        Ok(image)
    }

    /// Puts `image`'s data back in place of this store's (a session's reset).
    pub fn reset_to_image(
        &self,
        spec: &crate::spec::Spec,
        image: &Image,
    ) -> Result<super::ResetReport, super::SeedError> {
        let started = std::time::Instant::now();
        self.restore_image(image)?;
        Ok(super::ResetReport {
            restored: spec
                .resources
                .iter()
                .map(|resource| resource.name.clone())
                .collect(),
            reseeded: Vec::new(),
            took: started.elapsed(),
        })
    }

    /// Replaces this store's data by a copy of `image`'s (a session's reset).
    pub fn restore_image(&self, image: &Image) -> rusqlite::Result<()> {
        let auto_indexes = {
            let mut held = self.lock();
            let connection: &mut rusqlite::Connection = &mut held.connection;
            connection.flush_prepared_statement_cache();
            connection.deserialize_read_exact(
                rusqlite::MAIN_DB,
                image.main.as_slice(),
                image.main.len(),
                false,
            )?;
            super::existing_auto_indexes(connection)?
        };
        // What was known of the data replaced is not known of the image's.
        self.totals.clear();
        self.column_indexes.borrow_mut().clear();
        *self.auto_indexes.borrow_mut() = auto_indexes;
        self.written();
        Ok(())
    }

    /// A new private in-memory store holding a copy of `image`.
    pub fn from_image(image: &Image) -> rusqlite::Result<Store> {
        let store = Store::open_private()?;
        {
            let mut held = store.lock();
            let connection: &mut rusqlite::Connection = &mut held.connection;
            connection.deserialize_read_exact(
                rusqlite::MAIN_DB,
                image.main.as_slice(),
                image.main.len(),
                false,
            )?;
            if let Some(seeded) = &image.seeded {
                connection.deserialize_read_exact(
                    "seeded",
                    seeded.as_slice(),
                    seeded.len(),
                    false,
                )?;
            }
            *store.auto_indexes.borrow_mut() = super::existing_auto_indexes(connection)?;
        }
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    #[test]
    fn a_store_made_from_an_image_has_the_data_and_resets_to_the_seeded_state() {
        let spec = crate::spec::parse(
            "test.yaml",
            "standin: 1\nresources:\n  notes:\n    fields: { text: string }\n    count: 30\n",
        )
        .expect("a valid spec");
        let store = Store::open(Location::Memory).expect("a store");
        store.prepare(&spec).expect("tables");
        store.seed(&spec, 1).expect("seeded");
        let copy =
            Store::from_image(&store.image_with_snapshots().expect("an image")).expect("a copy");
        let notes = &spec.resources[0];
        assert_eq!(copy.count(notes).expect("a count"), 30);
        let fields = serde_json::json!({ "text": "only in the copy" });
        copy.create(&spec, notes, None, fields.as_object().cloned().unwrap())
            .expect("created");
        assert_eq!(copy.count(notes).expect("a count"), 31);
        assert_eq!(
            store.count(notes).expect("a count"),
            30,
            "the original is untouched"
        );
        copy.reset(&spec, 1).expect("reset");
        assert_eq!(copy.count(notes).expect("a count"), 30);
        let session = Store::from_image(&store.image().expect("an image")).expect("a copy");
        session
            .create(&spec, notes, None, fields.as_object().cloned().unwrap())
            .expect("created");
        assert_eq!(session.count(notes).expect("a count"), 31);
        session
            .restore_image(&store.image().expect("an image"))
            .expect("restored");
        assert_eq!(session.count(notes).expect("a count"), 30);
    }
}

#[cfg(test)]
mod measure {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::store::Location;

    /// The median of five runs of `run`.
    fn median(mut run: impl FnMut()) -> Duration {
        let mut times: Vec<Duration> = (0..5)
            .map(|_| {
                let started = Instant::now();
                run();
                started.elapsed()
            })
            .collect();
        times.sort();
        times[2]
    }

    /// A store copied with SQLite's online backup API, page by page.
    fn backed_up(store: &Store) -> Store {
        let copy = Store::open(Location::Memory).expect("a store");
        {
            let from = store.lock();
            let mut to = copy.lock();
            let backup = rusqlite::backup::Backup::new_with_names(&from, "main", &mut to, "main")
                .expect("a backup");
            backup
                .run_to_completion(i32::MAX, Duration::ZERO, None)
                .expect("copied");
        }
        copy
    }

    #[test]
    #[ignore = "a measurement: cargo test --lib -- --ignored session_copy_costs --nocapture"]
    fn session_copy_costs() {
        for count in [10_000, 100_000] {
            let spec = crate::spec::parse(
                "test.yaml",
                &format!(
                    "standin: 1\nresources:\n  posts:\n    fields:\n      title: {{ type: string, fake: sentence }}\n      body: {{ type: string, fake: paragraph }}\n      views: integer\n    count: {count}\n"
                ),
            )
            .expect("a valid spec");
            let store = Store::open(Location::Memory).expect("a store");
            store.prepare(&spec).expect("tables");
            store.seed(&spec, 1).expect("seeded");
            let image = store.image().expect("an image");
            let imaging = median(|| drop(store.image().expect("an image")));
            let deserializing = median(|| drop(Store::from_image(&image).expect("a copy")));
            let backing_up = median(|| drop(backed_up(&store)));
            let session = Store::from_image(&image).expect("a copy");
            let restoring = median(|| session.restore_image(&image).expect("restored"));
            let posts = &spec.resources[0];
            assert_eq!(
                Store::from_image(&image)
                    .expect("a copy")
                    .count(posts)
                    .expect("a count"),
                count
            );
            assert_eq!(backed_up(&store).count(posts).expect("a count"), count);
            println!(
                "{count} records ({:.1} MiB): image {imaging:.1?}, new session from the image (deserialize) {deserializing:.1?}, new session by backup API {backing_up:.1?}, session reset (image put back) {restoring:.1?}",
                image.size() as f64 / f64::from(1 << 20)
            );
        }
    }
}
