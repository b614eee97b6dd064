//! `GET /objects`: build 100 small structs and return them.

use crate::generated::api::Objects::Item;
use rohas_runtime::Result;

pub async fn handler() -> Result<Vec<Item>> {
    Ok((0..100)
        .map(|i| Item {
            id: i,
            name: format!("item-{i}"),
            price: i as f64 * 1.5,
            active: i % 2 == 0,
            tags: vec!["bench".to_string(), "rohas".to_string()],
        })
        .collect())
}
