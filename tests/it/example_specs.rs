//! Every example spec in `specs/`, and the starter `standin init` writes,
//! serves as it is: the home document, every collection and an item of each,
//! in both representations.

use crate::helpers::{example_specs, json, spawn, spawn_file};

#[tokio::test]
async fn every_example_spec_serves_its_collections_and_items() {
    let mut served = 0;
    let starter =
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/starter.yaml"));
    for path in example_specs().into_iter().chain([starter]) {
        let app = spawn_file(&path);
        let home = app
            .request(reqwest::Method::GET, "")
            .header("accept", "application/hal+json")
            .send()
            .await
            .unwrap();
        assert_eq!(home.status(), 200, "{}", path.display());
        let spec = app.server.spec();
        for resource in spec.resource_names() {
            for accept in ["application/hal+json", "application/json"] {
                let response = app
                    .request(reqwest::Method::GET, &format!("/{}", resource))
                    .header("accept", accept)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200, "{} {}", path.display(), resource);
            }
            let page = json(app.get_json(&format!("/{}?per_page=1", resource)).await).await;
            if let Some(first) = page.as_array().and_then(|items| items.first()) {
                let id = first["id"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| first["id"].to_string());
                let item = app.get(&format!("/{}/{id}", resource)).await;
                assert_eq!(item.status(), 200, "{} {} {id}", path.display(), resource);
            }
        }
        served += 1;
    }
    assert!(
        served >= 5,
        "blog, shop, todo, library (several files) and the starter at least"
    );
}

#[tokio::test]
async fn every_example_specs_normalised_form_serves_as_the_same_spec() {
    let examples = example_specs();
    assert!(!examples.is_empty());
    for path in examples {
        let app = spawn_file(&path);
        let normalised = json(app.get("/_standin/spec").await).await;
        // The export is one spec, includes resolved: it serves, and exports
        // itself unchanged.
        let again = spawn(&normalised.to_string());
        let exported_again = json(again.get("/_standin/spec").await).await;
        assert_eq!(exported_again, normalised, "{}", path.display());
    }
}
