// Drives react-admin's json-server data provider, unchanged, through every
// method against a running standin serving a json-server db.json with
// `books` (ids 1..n, `title`, `year`, `authorId`) and `authors`.
// Usage: node react-admin-dbjson.mjs URL
// Exits non-zero (with the failed assertion) if any call misbehaves.
import assert from 'node:assert/strict';
import jsonServerProvider from 'ra-data-json-server';

const url = process.argv[2];
assert.ok(url, 'usage: node react-admin-dbjson.mjs URL');
const provider = jsonServerProvider(url);

const page = await provider.getList('books', {
    pagination: { page: 1, perPage: 5 },
    sort: { field: 'title', order: 'ASC' },
    filter: {},
});
assert.equal(page.data.length, 5, 'a page of 5');
assert.equal(page.total, 12, 'the total counts every book');
const titles = page.data.map((book) => book.title);
assert.deepEqual(titles, [...titles].sort(), 'sorted by title');

const filtered = await provider.getList('books', {
    pagination: { page: 1, perPage: 10 },
    sort: { field: 'id', order: 'DESC' },
    filter: { authorId: 2 },
});
assert.ok(filtered.data.length > 0, 'some books by author 2');
assert.ok(filtered.data.every((book) => book.authorId === 2), 'filtered by authorId');
assert.ok(filtered.data[0].id > filtered.data.at(-1).id, 'sorted by id descending');

const searched = await provider.getList('books', {
    pagination: { page: 1, perPage: 10 },
    sort: { field: 'id', order: 'ASC' },
    filter: { q: 'book 1' },
});
assert.ok(searched.data.some((book) => book.title === 'Book 10'), 'q searches');

const one = await provider.getOne('books', { id: 3 });
assert.equal(one.data.title, 'Book 3', 'getOne');
assert.equal(one.data.created_at, undefined, 'records come back as stored');

const many = await provider.getMany('books', { ids: [1, 2] });
assert.deepEqual(many.data.map((book) => book.id).sort(), [1, 2], 'getMany');

const references = await provider.getManyReference('books', {
    target: 'authorId',
    id: 1,
    pagination: { page: 1, perPage: 25 },
    sort: { field: 'id', order: 'ASC' },
    filter: {},
});
assert.ok(references.total >= 1, 'getManyReference counts');
assert.ok(references.data.every((book) => book.authorId === 1), 'getManyReference filters by the target');

const created = await provider.create('books', { data: { title: 'Made by react-admin', authorId: 1 } });
assert.equal(created.data.id, 13, 'create gives the next id');

const updated = await provider.update('books', {
    id: created.data.id,
    data: { ...created.data, year: 2024 },
    previousData: created.data,
});
assert.equal(updated.data.year, 2024, 'update');

const updatedMany = await provider.updateMany('books', { ids: [1, 2], data: { year: 1999 } });
assert.deepEqual(updatedMany.data, [1, 2], 'updateMany');

const deleted = await provider.delete('books', { id: created.data.id, previousData: created.data });
// json-server answers a delete with `{}`, which the provider passes on.
assert.deepEqual(deleted.data, {}, 'delete');

const deletedMany = await provider.deleteMany('books', { ids: [1, 2] });
// The provider maps each answer's id, which json-server's `{}` lacks.
assert.equal(deletedMany.data.length, 2, 'deleteMany');

const after = await provider.getList('books', {
    pagination: { page: 1, perPage: 50 },
    sort: { field: 'id', order: 'ASC' },
    filter: {},
});
assert.equal(after.total, 10, 'three deleted, one made');
console.log('ra-data-json-server on a db.json: ok');
