//! The framework's ceiling: actix-web, with the worker count standin uses,
//! answering the exact bytes and headers standin answers for one item and one
//! page, from memory. Usage: standin-ceiling PORT ITEM_FILE PAGE_FILE

use actix_web::{App, HttpResponse, HttpServer, web};

struct Bodies {
    item: web::Bytes,
    page: web::Bytes,
}

fn answer(body: &web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("ETag", "\"0123456789abcdef\""))
        .insert_header(("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT"))
        .insert_header(("Vary", "Accept"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(body.clone())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, port, item, page] = arguments.as_slice() else {
        panic!("usage: standin-ceiling PORT ITEM_FILE PAGE_FILE");
    };
    let bodies = web::Data::new(Bodies {
        item: std::fs::read(item)?.into(),
        page: std::fs::read(page)?.into(),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(bodies.clone())
            .route("/item", web::get().to(|bodies: web::Data<Bodies>| async move { answer(&bodies.item) }))
            .route("/page", web::get().to(|bodies: web::Data<Bodies>| async move { answer(&bodies.page) }))
    })
    .workers(2)
    .bind(("127.0.0.1", port.parse::<u16>().expect("a port")))?
    .run()
    .await
}
