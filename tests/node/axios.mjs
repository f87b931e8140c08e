// Drives axios, unchanged and with its default `Accept: application/json,
// text/plain, */*`, against a running standin whose spec keeps HAL as the
// default representation. Usage: node axios.mjs URL
// A client naming application/json must get plain JSON, not HAL.
import assert from 'node:assert/strict';
import axios from 'axios';

const url = process.argv[2];
assert.ok(url, 'usage: node axios.mjs URL');
const api = axios.create({ baseURL: url });

const page = await api.get('/posts', { params: { per_page: 3 } });
assert.match(page.headers['content-type'], /^application\/json/, 'plain JSON for axios');
assert.ok(Array.isArray(page.data), 'a page is a bare array');
assert.equal(page.data.length, 3);
assert.ok(Number(page.headers['x-total-count']) >= 3, 'X-Total-Count is readable');

const created = await api.post('/posts', { title: 'Made by axios', slug: 'made-by-axios', author: page.data[0].author });
assert.equal(created.status, 201);
assert.equal(created.data.title, 'Made by axios');
assert.equal(created.data._links, undefined, 'no HAL links in plain JSON');

const removed = await api.delete(`/posts/${created.data.id}`);
assert.equal(removed.status, 200, 'a plain JSON client gets the deleted record');
assert.equal(removed.data.id, created.data.id);

const missing = await api.get(`/posts/${created.data.id}`).catch((error) => error.response);
assert.equal(missing.status, 410, 'blog.yaml soft-deletes posts');
assert.match(missing.headers['content-type'], /^application\/problem\+json/);
console.log('axios: ok');
