import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyParser } from '../../src/http/body.ts';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../src/errors.ts';
import { koaContext, run, type FakeRequest } from '../helpers/koa-context.ts';

/** The body the parser hands the route, or the error it answers with. */
async function parse(request: FakeRequest, opts: { limit?: number; forms?: boolean } = {}) {
  const ctx = koaContext({ method: 'POST', ...request });
  try {
    const { reachedNext } = await run(bodyParser({ limit: opts.limit ?? 1024, forms: opts.forms }), ctx);
    assert.ok(reachedNext);
    return ctx.request.body;
  } catch (err) {
    return err;
  }
}
const json = (body: string, type = 'application/json') => ({ headers: { 'content-type': type }, body });

describe('body parsing', () => {
  it('parses JSON, also with an explicit UTF-8 charset', async () => {
    assert.deepEqual(await parse(json('{"email":"a@example.com"}')), { email: 'a@example.com' });
    assert.deepEqual(await parse(json('{"a":"é"}', 'application/json; charset=UTF-8')), { a: 'é' });
  });

  it('parses a structured +json media type as JSON (application/merge-patch+json, application/problem+json)', async () => {
    assert.deepEqual(await parse(json('{"title":"x"}', 'application/merge-patch+json')), { title: 'x' });
    assert.ok((await parse(json('{"a":1}', 'application/vnd.example+xml'))) instanceof UnsupportedMediaTypeError);
  });

  it('takes an empty body as {} (the js-sdk posts JSON with no body), and never reads one on GET', async () => {
    assert.deepEqual(await parse({ headers: { 'content-type': 'application/json' } }), {});
    assert.deepEqual(await parse({ method: 'GET', headers: { 'content-type': 'text/plain' }, body: 'ignored' }), {});
  });

  it('parses forms, refusing a repeated parameter', async () => {
    assert.deepEqual(await parse(json('grant_type=refresh_token&scope=a+b', 'application/x-www-form-urlencoded')), {
      grant_type: 'refresh_token',
      scope: 'a b',
    });
    const repeated = await parse(json('scope=a&scope=b', 'application/x-www-form-urlencoded'));
    assert.ok(repeated instanceof InvalidRequestError && /"scope" is repeated/.test(repeated.message));
    assert.ok(
      (await parse(json('a=1', 'application/x-www-form-urlencoded'), { forms: false })) instanceof UnsupportedMediaTypeError,
      'a JSON-only surface refuses forms',
    );
  });

  it('answers 400 for JSON it cannot read and for bytes that are not UTF-8', async () => {
    assert.ok((await parse(json('{"a":'))) instanceof InvalidRequestError);
    assert.ok(
      (await parse({ headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0xff, 0x7d]) })) instanceof
        InvalidRequestError,
    );
  });

  it('answers 415 for another media type, another charset, or a body with no content type at all', async () => {
    for (const request of [
      json('<a/>', 'application/xml'),
      json('{}', 'text/plain'),
      json('{}', 'application/json; charset=latin1'),
      { body: '{"a":1}' },
    ]) {
      assert.ok((await parse(request)) instanceof UnsupportedMediaTypeError, JSON.stringify(request));
    }
  });

  it('answers 413 and closes the connection for a body over the limit, declared or streamed', async () => {
    const declared = await parse({ headers: { 'content-type': 'application/json', 'content-length': '5000' }, body: '{}' }, { limit: 100 });
    assert.ok(declared instanceof PayloadTooLargeError);
    assert.equal(declared.headers.Connection, 'close');
    const streamed = await parse(
      { headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: `{"a":"${'x'.repeat(200)}"}` },
      { limit: 100 },
    );
    assert.ok(streamed instanceof PayloadTooLargeError);
    assert.equal(streamed.status, 413);
    assert.deepEqual(await parse(json(`{"a":"${'x'.repeat(90)}"}`), { limit: 100 }), { a: 'x'.repeat(90) }, 'exactly at the limit is fine');
  });
});
