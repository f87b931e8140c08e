//! Copies of a whole store as bytes (SQLite's serialize and deserialize):
//! the data and the seeded snapshots, for sessions, which each get a private
//! in-memory store made from one image of the seeded data in milliseconds.

use super::{Location, Store};

/// A store's databases as bytes: its data and its seeded snapshots.
#[derive(Debug, Clone)]
pub struct Image {
    /// The `main` database.
    main: Vec<u8>,
    /// The `seeded` database (the snapshots resets restore).
    seeded: Vec<u8>,
}

impl Image {
    /// How many bytes the image holds (about what a store made from it takes).
    pub fn size(&self) -> usize {
        self.main.len() + self.seeded.len()
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
    /// An image of this store's data and snapshots as they are now.
    pub fn image(&self) -> rusqlite::Result<Image> {
        let mut held = self.lock();
        let connection: &mut rusqlite::Connection = &mut held.connection;
        let main = rollback_journal(connection.serialize(rusqlite::MAIN_DB)?.to_vec());
        let seeded = rollback_journal(connection.serialize("seeded")?.to_vec());
        Ok(Image { main, seeded })
    }

    /// A new in-memory store holding a copy of `image`.
    pub fn from_image(image: &Image) -> rusqlite::Result<Store> {
        let store = Store::open(Location::Memory)?;
        {
            let mut held = store.lock();
            let connection: &mut rusqlite::Connection = &mut held.connection;
            connection.deserialize_read_exact(
                rusqlite::MAIN_DB,
                image.main.as_slice(),
                image.main.len(),
                false,
            )?;
            connection.deserialize_read_exact(
                "seeded",
                image.seeded.as_slice(),
                image.seeded.len(),
                false,
            )?;
        }
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let copy = Store::from_image(&store.image().expect("an image")).expect("a copy");
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
    }
}
