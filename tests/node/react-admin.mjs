// Drives react-admin's two REST data providers, unchanged, through every
// method, against a running standin serving specs/todo.yaml (or a variant of
// it). Usage: node react-admin.mjs URL [accept-json]
// With `accept-json`, the providers' HTTP client sends `Accept:
// application/json`, the setup docs/queries.md gives for a spec without
// `defaults.accept`. Exits non-zero (with the failed assertion) if any call
// misbehaves.
import assert from 'node:assert/strict';
import { fetchUtils } from 'ra-core';
import jsonServerProvider from 'ra-data-json-server';
import simpleRestProvider from 'ra-data-simple-rest';

const url = process.argv[2];
assert.ok(url, 'usage: node react-admin.mjs URL [accept-json]');
const httpClient = process.argv[3] === 'accept-json'
    ? (target, options = {}) => {
        const headers = new Headers(options.headers || {});
        headers.set('Accept', 'application/json');
        return fetchUtils.fetchJson(target, { ...options, headers });
    }
    : fetchUtils.fetchJson;

async function exercise(name, provider) {
    const page = await provider.getList('todos', {
        pagination: { page: 1, perPage: 5 },
        sort: { field: 'title', order: 'ASC' },
        filter: {},
    });
    assert.equal(page.data.length, 5, `${name}: a page of 5`);
    assert.ok(page.total >= 22, `${name}: the total counts every todo (${page.total})`);
    const titles = page.data.map((todo) => todo.title);
    assert.deepEqual(titles, [...titles].sort(), `${name}: sorted by title`);

    const second = await provider.getList('todos', {
        pagination: { page: 2, perPage: 5 },
        sort: { field: 'id', order: 'DESC' },
        filter: { done: false },
    });
    assert.ok(second.data.every((todo) => todo.done === false), `${name}: filtered by done`);
    assert.ok(second.data[0].id > second.data.at(-1).id, `${name}: sorted by id descending`);

    const searched = await provider.getList('todos', {
        pagination: { page: 1, perPage: 10 },
        sort: { field: 'id', order: 'ASC' },
        filter: { q: 'milk' },
    });
    assert.ok(searched.data.some((todo) => todo.title === 'Buy milk'), `${name}: q searches`);

    const one = await provider.getOne('todos', { id: 1 });
    assert.equal(one.data.title, 'Buy milk', `${name}: getOne`);

    const many = await provider.getMany('todos', { ids: [1, 2] });
    assert.deepEqual(many.data.map((todo) => todo.id).sort(), [1, 2], `${name}: getMany`);

    const references = await provider.getManyReference('todos', {
        target: 'list',
        id: 1,
        pagination: { page: 1, perPage: 25 },
        sort: { field: 'id', order: 'ASC' },
        filter: {},
    });
    assert.ok(references.data.length >= 1, `${name}: getManyReference`);
    assert.ok(references.data.every((todo) => todo.list === 1), `${name}: getManyReference filters by the target`);

    const created = await provider.create('todos', { data: { title: `Made by ${name}`, priority: 2 } });
    assert.ok(created.data.id, `${name}: create returns the id`);
    assert.equal(created.data.done, false, `${name}: create returns defaults`);

    const updated = await provider.update('todos', {
        id: created.data.id,
        data: { ...created.data, done: true },
        previousData: created.data,
    });
    assert.equal(updated.data.done, true, `${name}: update`);

    const second_made = await provider.create('todos', { data: { title: `Also by ${name}` } });
    // Both providers PUT the same data to every id: a replacement, so it
    // carries every required field.
    const updatedMany = await provider.updateMany('todos', {
        ids: [created.data.id, second_made.data.id],
        data: { title: 'Bulk', priority: 5 },
    });
    assert.deepEqual(updatedMany.data.map(Number).sort(), [created.data.id, second_made.data.id].sort(), `${name}: updateMany`);
    const again = await provider.getOne('todos', { id: second_made.data.id });
    assert.equal(again.data.priority, 5, `${name}: updateMany changed the records`);
    await provider.delete('todos', { id: second_made.data.id, previousData: again.data });

    const deleted = await provider.delete('todos', { id: created.data.id, previousData: updated.data });
    assert.equal(deleted.data.id, created.data.id, `${name}: delete answers the record`);

    const extra = await provider.create('todos', { data: { title: 'Temporary' } });
    const removed = await provider.deleteMany('todos', { ids: [extra.data.id] });
    assert.deepEqual(removed.data.map(Number), [extra.data.id], `${name}: deleteMany`);
    await assert.rejects(provider.getOne('todos', { id: extra.data.id }), `${name}: deleted for good`);
    console.log(`${name}: ok`);
}

await exercise('ra-data-json-server', jsonServerProvider(url, httpClient));
await exercise('ra-data-simple-rest', simpleRestProvider(url, httpClient));
