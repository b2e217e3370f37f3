#!/usr/bin/env node
// Replays a Kraken WebSocket v2 raw capture (one JSON frame per line) through
// ccxt pro's own Kraken handler, offline, and prints one JSON line:
//   {"frames":N,"elapsed_s":S,"frames_per_s":R,"ccxt":"4.x.y","node":"v20...",
//    "checksum":false,"errors":0,"books":[{"symbol":..,"bids":[[p,q],..],"asks":[..]}],
//    "top":{"BTC/USD":{"bid":[p,q],"ask":[p,q]},..}}
//
// Usage: node kraken_replay.js [--checksum] FILE
//
// What runs per frame is exactly what ccxt runs when a frame arrives on its
// socket: WsClient.onMessage({data: line}) -> JSON.parse (ccxt's own, with its
// big-integer rewrite) -> kraken.handleMessage -> handleOrderBook ->
// OrderBookSide.store / limit. The client is ccxt's own, made by
// exchange.client(publicV2 URL) as watchOrderBook would make it, but never
// connected; its subscriptions are set up from the capture's subscribe acks as
// watchOrderBookForSymbols (watchMultiHelper -> watchMultiple) would set them.
// No consumer awaits a future (none is pending), so resolve() is a lookup.
//
// Timed: only the frame loop. The file is read and split into lines first;
// importing ccxt, building the exchange and the client are not timed.
//
// --checksum turns on ccxt's own option options.watchOrderBook.checksum (off by
// default in ccxt: "checksum temporarily disabled because the exchange checksum
// was not reliable"); the frames it rejects are counted in "errors".
//
// No network: before ccxt is loaded, every way Node opens a socket or resolves
// a name is replaced by one that throws, so a connection attempt fails loudly.

import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';

function noNetwork(what) {
    return function () {
        throw new Error('kraken_replay.js: network use refused (' + what + ')');
    };
}
net.Socket.prototype.connect = noNetwork('net.Socket.connect');
net.connect = net.createConnection = noNetwork('net.connect');
tls.connect = noNetwork('tls.connect');
dns.lookup = noNetwork('dns.lookup');
dns.promises.lookup = noNetwork('dns.promises.lookup');
http.request = http.get = noNetwork('http.request');
https.request = https.get = noNetwork('https.request');
globalThis.fetch = noNetwork('fetch');

const args = process.argv.slice(2);
const checksum = args.includes('--checksum');
const files = args.filter((a) => a !== '--checksum');
if (files.length !== 1) {
    process.stderr.write('usage: node kraken_replay.js [--checksum] FILE\n');
    process.exit(2);
}
const file = files[0];

const { default: ccxt } = await import('ccxt');
// The installed package's version (ccxt.version, a string built into the
// bundle, can lag it by one release: 4.5.84 says '4.5.83').
const ccxtPackage = JSON.parse(fs.readFileSync(
    new URL('./node_modules/ccxt/package.json', import.meta.url), 'utf8'));
const exchange = new ccxt.pro.kraken({
    options: { watchOrderBook: { checksum } },
});
const url = exchange.urls.api.ws.publicV2;
const client = exchange.client(url); // ccxt's WsClient; not connected

// A handler that throws inside onMessage is caught there and passed to
// client.reject(error) (no pending futures: dropped silently); a checksum
// mismatch is client.reject(error, messageHash). Count both.
const errors = [];
const reject = client.reject.bind(client);
client.reject = (error, messageHash) => {
    errors.push(String(error && error.message ? error.message : error));
    return reject(error, messageHash);
};

// Read the whole file into memory first (not timed).
let text = fs.readFileSync(file, 'utf8');
const lines = text.split('\n');
text = undefined;
if (lines.length && lines[lines.length - 1] === '') lines.pop();

// The subscription state watchOrderBookForSymbols leaves on the client: one
// subscription per symbol, keyed by its message hash ('orderbook@BTC/USD'),
// valued by its subscriptionArgs ({limit}). Taken from the subscribe acks.
for (const line of lines) {
    if (!line.includes('"subscribe"')) continue;
    const msg = JSON.parse(line);
    const result = msg.result || {};
    if (msg.method === 'subscribe' && msg.success && result.channel === 'book') {
        const hash = exchange.getMessageHash('orderbook', undefined, result.symbol);
        client.subscriptions[hash] = { limit: result.depth };
    }
}

// The timed loop: every line through ccxt's own client entry point.
const t0 = performance.now();
for (let i = 0; i < lines.length; i++) {
    client.onMessage({ data: lines[i] });
}
const elapsed = (performance.now() - t0) / 1000;

const books = [];
const top = {};
for (const symbol of Object.keys(exchange.orderbooks).sort()) {
    const ob = exchange.orderbooks[symbol];
    const bids = Array.from(ob.bids, (l) => [l[0], l[1]]);
    const asks = Array.from(ob.asks, (l) => [l[0], l[1]]);
    books.push({ symbol, bids, asks });
    top[symbol] = { bid: bids[0] || null, ask: asks[0] || null };
}

process.stdout.write(JSON.stringify({
    frames: lines.length,
    elapsed_s: Number(elapsed.toFixed(6)),
    frames_per_s: Number((lines.length / elapsed).toFixed(1)),
    timed: 'frame loop only (file read and split before; ccxt import and setup excluded)',
    ccxt: ccxtPackage.version,
    node: process.version,
    checksum,
    errors: errors.length,
    first_error: errors[0],
    top,
    books,
}) + '\n');
process.exit(errors.length ? 1 : 0);
