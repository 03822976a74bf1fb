/**
 * A minimal tar writer (ustar, with PAX headers for long names), for images the project makes itself: the stand-in
 * base images (`docker import` takes a tar) and the local cluster's sandbox image (an OCI image layout). Only a writer
 * of our own can give each entry the owner an image needs (root, or 65532 for /home/nonroot) without running as root,
 * and the same content always makes the same bytes (mtime 0).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Writable } from "node:stream";

export interface TarEntry {
    readonly name: string; // no leading slash; directories end without a slash
    readonly type: "file" | "dir" | "symlink";
    readonly mode: number;
    readonly uid?: number;
    readonly gid?: number;
    /** File content, or the host path to read it from. */
    readonly content?: Buffer | { readonly fromPath: string };
    readonly linkTarget?: string;
}

function tarHeader(name: string, type: string, mode: number, uid: number, gid: number, size: number, linkTarget = ""): Buffer {
    const h = Buffer.alloc(512);
    const octal = (v: number, off: number, len: number) => h.write(v.toString(8).padStart(len - 1, "0") + "\0", off, len, "ascii");
    h.write(name, 0, 100, "utf8");
    octal(mode & 0o7777, 100, 8);
    octal(uid, 108, 8);
    octal(gid, 116, 8);
    octal(size, 124, 12);
    octal(0, 136, 12); // mtime 0: the same content always makes the same tar
    h.fill(" ", 148, 156);
    h.write(type, 156, 1, "ascii");
    h.write(linkTarget, 157, 100, "utf8");
    h.write("ustar\0", 257, 6, "ascii");
    h.write("00", 263, 2, "ascii");
    const sum = h.reduce((a, b) => a + b, 0);
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
    return h;
}

function pad(size: number): Buffer {
    return Buffer.alloc((512 - (size % 512)) % 512);
}

function paxRecord(key: string, value: string): string {
    const body = ` ${key}=${value}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
    return `${len}${body}`;
}

export function* tarBlocks(e: TarEntry): Generator<Buffer> {
    const name = e.type === "dir" ? `${e.name}/` : e.name;
    const link = e.linkTarget ?? "";
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(link) > 100) {
        const pax = Buffer.from(paxRecord("path", name) + (link ? paxRecord("linkpath", link) : ""));
        yield tarHeader("PaxHeader", "x", 0o644, 0, 0, pax.length);
        yield pax;
        yield pad(pax.length);
    }
    const content = e.type !== "file" ? Buffer.alloc(0)
        : Buffer.isBuffer(e.content) ? e.content
        : e.content ? fs.readFileSync(e.content.fromPath) : Buffer.alloc(0);
    const type = { file: "0", dir: "5", symlink: "2" }[e.type];
    yield tarHeader(name.slice(0, 100), type, e.mode, e.uid ?? 0, e.gid ?? 0, content.length, link.slice(0, 100));
    if (content.length) {
        yield content;
        yield pad(content.length);
    }
}

export async function writeTar(out: Writable, entries: Iterable<TarEntry>): Promise<void> {
    const write = (b: Buffer) => new Promise<void>((resolve, reject) => (out.write(b, (err) => (err ? reject(err) : resolve()))));
    for (const e of entries) for (const b of tarBlocks(e)) await write(b);
    await write(Buffer.alloc(1024));
    await new Promise<void>((resolve) => out.end(resolve));
}

export function tarBuffer(entries: Iterable<TarEntry>): Buffer {
    const parts: Buffer[] = [];
    for (const e of entries) parts.push(...tarBlocks(e));
    parts.push(Buffer.alloc(1024));
    return Buffer.concat(parts);
}

/** Host directory tree as tar entries under `under`, owned by root, modes kept, symlinks kept as symlinks. */
export function* treeEntries(hostDir: string, under: string): Generator<TarEntry> {
    yield { name: under, type: "dir", mode: fs.statSync(hostDir).mode };
    for (const d of fs.readdirSync(hostDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const host = path.join(hostDir, d.name);
        const name = `${under}/${d.name}`;
        const st = fs.lstatSync(host);
        if (st.isSymbolicLink()) yield { name, type: "symlink", mode: 0o777, linkTarget: fs.readlinkSync(host) };
        else if (st.isDirectory()) yield* treeEntries(host, name);
        else if (st.isFile()) yield { name, type: "file", mode: st.mode, content: { fromPath: host } };
    }
}

