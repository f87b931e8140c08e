"""Drives two independently written Python clients against a running standin
serving specs/blog.yaml: halchemy (a HAL client) walks the API from its home
document by link relations and URI templates, creating, changing and
deleting a record and taking an action by its link; collection-json parses the Collection+JSON answers and
fills in the write template the server advertises.

Usage: python3 hal_and_collection_json.py URL  (URL is the API's base)
Exits non-zero, with the failed assertion, if anything misbehaves."""

import json
import sys

import collection_json
import requests
from halchemy import Api

url = sys.argv[1]
origin = url[: url.index("/", len("http://"))]


def status(resource):
    return resource._halchemy.response.status_code


# halchemy: from the home document, by link relations only. Its hrefs are
# path-absolute, so the client's base is the origin, whose root redirects
# to the API's home.
api = Api(origin)
home = api.home.get()
assert status(home) == 200, status(home)
assert "posts" in home.links, home.links

page = api.follow(home).to("posts").with_template_values({"per_page": 5, "sort": "-id"}).get()
assert status(page) == 200, status(page)
posts = page.embedded_many("posts")
assert len(posts) == 5, len(posts)
assert posts[0]["id"] > posts[-1]["id"], "sorted by id, descending"
assert "next" in page.links and "prev" not in page.links, page.links

second = api.follow(page).to("next").get()
assert status(second) == 200 and second["page"] == 2, second.get("page")

post = api.follow(posts[0]).to("self").get()
author = api.follow(post).to("author").get()
assert status(author) == 200 and author["id"] == post["author"], author

written = api.follow(home).to("posts").post(
    {"title": "Made by halchemy", "slug": "made-by-halchemy", "author": author["id"]}
)
assert status(written) == 201, (status(written), dict(written))
created = api.follow(written).to("self").get()
assert created["title"] == "Made by halchemy", created

# A new post is a draft: it links the action `publish`, not `archive`;
# following the link with POST publishes it, and then it links `archive`.
assert "publish" in created.links and "archive" not in created.links, created.links
published = api.follow(created).to("publish").post()
assert status(published) == 200 and published["status"] == "published", dict(published)
assert "archive" in published.links and "publish" not in published.links, published.links

changed = api.follow(published).to("self").patch({"views": 7})
assert status(changed) == 200 and changed["views"] == 7, dict(changed)

gone = api.follow(changed).to("self").delete()
assert status(gone) == 204, status(gone)
after = api.follow(changed).to("self").get()
assert status(after) == 410, status(after)  # blog.yaml soft-deletes posts
print("halchemy: ok")

# collection-json: read a collection, then create through its template.
cj = {"Accept": "application/vnd.collection+json"}
answer = requests.get(f"{url}/authors", params={"per_page": 3}, headers=cj)
assert answer.status_code == 200, answer.status_code
collection = collection_json.Collection.from_json(answer.text)
assert len(collection.items) == 3, collection.items
first = collection.items[0]
assert first.href.startswith("/"), first.href
assert any(datum.name == "email" for datum in first.data), first.data
names = [datum.name for datum in collection.template.data]
assert "name" in names and "email" in names, names
search = collection.queries[0]
assert search.rel == "search", search.rel

# Fill in the template the server gave, and send it back.
template = collection.template
for datum in template.data:
    datum.value = {"name": "Grace Hopper", "email": "grace@example.com"}.get(datum.name)
created = requests.post(
    f"{url}/authors",
    data=json.dumps(template.to_dict()),
    headers={**cj, "Content-Type": "application/vnd.collection+json"},
)
assert created.status_code == 201, (created.status_code, created.text)
item = collection_json.Collection.from_json(created.text).items[0]
values = {datum.name: datum.value for datum in item.data}
assert values["name"] == "Grace Hopper" and values["email"] == "grace@example.com", values
location = created.headers["Location"]
assert requests.get(origin + location, headers=cj).status_code == 200

# An item's links include the actions its state allows, by rel.
answer = requests.get(f"{url}/posts", params={"status": "draft", "per_page": 1}, headers=cj)
draft = collection_json.Collection.from_json(answer.text).items[0]
rels = {link.rel: link.href for link in draft.links}
assert "publish" in rels and "archive" not in rels, rels
taken = requests.post(origin + rels["publish"], headers=cj)
assert taken.status_code == 200, (taken.status_code, taken.text)
after = collection_json.Collection.from_json(taken.text).items[0]
rels = {link.rel for link in after.links}
assert "archive" in rels and "publish" not in rels, rels
print("collection-json: ok")
