/**
 * What a real node changes on this machine, observed and put back. A kubelet, containerd and the CNI plugins change
 * the host whatever their flags say: sysctls, paths (/var/lib/kubelet, /var/lib/cni, ...), iptables chains, a bridge
 * and its route, mounts, cgroups, conntrack entries. `snapshotHost` records what teardown needs to put the machine
 * back as it was (small, kept in the machine's lock file so that a later run can clean up after a killed one);
 * `observeHost` and `diffHost` are the wider view a spec compares before and after.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { run, runOk } from "../scripts/lib/process";

/** The sysctls the kubelet, kube-proxy and the CNI bridge plugin set. */
export const NODE_SYSCTLS = [
    "kernel/panic", "kernel/panic_on_oops", "vm/overcommit_memory", "vm/panic_on_oom", "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes", "net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding", "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
] as const;

/** Paths a kubelet, containerd or the CNI plugins create outside the folders their flags name. */
export const NODE_PATHS = [
    "/var/lib/kubelet", "/var/log/containers", "/var/log/pods", "/var/lib/cni", "/run/containerd", "/var/run/containerd",
    "/etc/cni", "/opt/cni", "/opt/containerd", "/var/lib/containerd", "/run/netns", "/var/run/netns", "/etc/kubernetes",
    "/var/lib/kube-proxy", "/run/kubernetes", "/usr/libexec/kubernetes", "/var/lib/dockershim", "/run/runc",
] as const;

const IPTABLES = ["iptables", "ip6tables"] as const;
const TABLES = ["filter", "nat", "mangle", "raw"] as const;
/** Chains the node's components make: kubelet and kube-proxy (KUBE-*), the CNI plugins (CNI-*). */
const NODE_CHAIN = /^(KUBE|CNI)-/;

/** What teardown needs to know about the machine before the node started. */
export interface HostSnapshot {
    readonly sysctls: Readonly<Record<string, string>>;
    /** Which of NODE_PATHS existed. */
    readonly paths: readonly string[];
    /** `<command> <table> <chain>` of every chain. */
    readonly chains: readonly string[];
    readonly nftTables: readonly string[];
    /** Cgroup directories under a `kubepods` hierarchy that existed (none on a machine without a kubelet). */
    readonly kubepods: readonly string[];
}

/** The wider view of the machine a spec compares: everything a node could leave behind. */
export interface HostState extends HostSnapshot {
    readonly mounts: readonly string[];
    readonly links: readonly string[];
    readonly netns: readonly string[];
    readonly routes: readonly string[];
    readonly rules: readonly string[];
    readonly cgroups: readonly string[];
    /** Processes of a node: a kubelet, kube-proxy, containerd shims, anything in a pod's cgroup. */
    readonly processes: readonly string[];
}

function readSysctl(name: string): string | undefined {
    try {
        return fs.readFileSync(`/proc/sys/${name}`, "utf8").trim();
    } catch {
        return undefined;
    }
}

async function commandExists(command: string): Promise<boolean> {
    return (await run("sh", ["-c", `command -v ${command}`]).catch(() => undefined))?.code === 0;
}

/** `iptables-save` of one table, without counters and comments; empty where the command or table is missing. */
async function saveTable(command: (typeof IPTABLES)[number], table: string): Promise<string[]> {
    const r = await run(`${command}-save`, ["-t", table]).catch(() => undefined);
    if (!r || r.code !== 0) return [];
    return r.stdout.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.replace(/ \[\d+:\d+\]$/, ""));
}

async function chainsAndRules(): Promise<{ chains: string[]; rules: string[] }> {
    const chains: string[] = [];
    const rules: string[] = [];
    for (const command of IPTABLES) {
        for (const table of TABLES) {
            for (const line of await saveTable(command, table)) {
                if (line.startsWith(":")) chains.push(`${command} ${table} ${line.slice(1).split(" ")[0]}`);
                else if (line.startsWith("-A ")) rules.push(`${command} ${table} ${line}`);
            }
        }
    }
    return { chains, rules };
}

async function nftTables(): Promise<string[]> {
    if (!(await commandExists("nft"))) return [];
    const r = await run("nft", ["list", "tables"]).catch(() => undefined);
    return r?.code === 0 ? r.stdout.split("\n").filter(Boolean) : [];
}

/** Every cgroup directory, as `<hierarchy>/<path>`. */
function cgroupDirs(): string[] {
    const root = "/sys/fs/cgroup";
    const out: string[] = [];
    const walk = (dir: string) => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) {
            if (!e.isDirectory()) continue;
            const p = path.join(dir, e.name);
            out.push(path.relative(root, p));
            walk(p);
        }
    };
    walk(root);
    return out.sort();
}

export async function snapshotHost(): Promise<HostSnapshot> {
    const { chains } = await chainsAndRules();
    return {
        sysctls: Object.fromEntries(NODE_SYSCTLS.flatMap((s) => {
            const v = readSysctl(s);
            return v === undefined ? [] : [[s, v]];
        })),
        paths: NODE_PATHS.filter((p) => fs.existsSync(p)),
        chains,
        nftTables: await nftTables(),
        kubepods: cgroupDirs().filter((d) => d.includes("kubepods")),
    };
}

interface ProcessInfo {
    readonly pid: number;
    readonly cmdline: string;
    readonly cgroup: string;
}

function processes(): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            out.push({
                pid: Number(entry),
                cmdline: fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean).join(" "),
                cgroup: fs.readFileSync(`/proc/${entry}/cgroup`, "utf8"),
            });
        } catch {
            // gone meanwhile
        }
    }
    return out;
}

/** A node's process: it runs in a pod's cgroup, or it is a kubelet, kube-proxy or containerd shim. */
function isNodeProcess(p: ProcessInfo): boolean {
    return p.cgroup.includes("kubepods") || /(^|\/)(kubelet|kube-proxy|containerd-shim-runc-v2)( |$)/.test(p.cmdline);
}

function mounts(): string[] {
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((line) => {
        const fields = line.split(" ");
        const type = fields[fields.indexOf("-") + 1];
        return `${fields[4].replace(/\\040/g, " ")} ${type}`;
    }).sort();
}

async function lines(command: string, args: readonly string[]): Promise<string[]> {
    const r = await run(command, args).catch(() => undefined);
    return r?.code === 0 ? r.stdout.split("\n").map((l) => l.trim()).filter(Boolean).sort() : [];
}

export async function observeHost(): Promise<HostState> {
    const { rules } = await chainsAndRules();
    return {
        ...(await snapshotHost()),
        mounts: mounts(),
        links: (await lines("ip", ["-o", "link", "show"])).map((l) => l.split(":")[1].trim().split("@")[0]).sort(),
        netns: await lines("ip", ["netns", "list"]),
        routes: [...await lines("ip", ["-4", "route", "show", "table", "all"]), ...await lines("ip", ["-6", "route", "show", "table", "all"])]
            // The kernel's own routes of the loopback and the uplink's link-local addresses come and go with traffic.
            .filter((r) => !/^(local|multicast|anycast|broadcast) /.test(r)),
        rules,
        cgroups: cgroupDirs(),
        processes: processes().filter(isNodeProcess).map((p) => `${p.pid} ${p.cmdline}`).sort(),
    };
}

/** One line per difference between two observations of the machine, in words: empty when they are the same. */
export function diffHost(before: HostState, after: HostState): string[] {
    const out: string[] = [];
    const sets: (keyof HostState)[] = ["processes", "mounts", "links", "netns", "routes", "chains", "rules", "nftTables", "cgroups", "paths"];
    for (const key of sets) {
        const a = new Set(before[key] as readonly string[]);
        const b = new Set(after[key] as readonly string[]);
        for (const x of b) if (!a.has(x)) out.push(`${key}: left behind: ${x}`);
        for (const x of a) if (!b.has(x)) out.push(`${key}: removed: ${x}`);
    }
    for (const [name, value] of Object.entries(before.sysctls)) {
        if (after.sysctls[name] !== value) out.push(`sysctls: ${name.replace(/\//g, ".")} was ${value}, is ${after.sysctls[name]}`);
    }
    return out;
}

/** What the node was: the folder that holds its files, its bridge, and the address ranges its packets used. */
export interface NodeFootprint {
    readonly dir: string;
    readonly bridge: string;
    readonly ranges: readonly string[];
}

/**
 * Puts the machine back as `before` found it, after the node's processes were asked to stop (or died): kills what is
 * left of the node, unmounts under its folder deepest first, deletes the chains, nft tables, bridge and conntrack
 * entries it made, the cgroups and paths that did not exist, restores the sysctls and removes the folder. Each step
 * runs even when an earlier one failed; the failures are returned, one line each.
 */
export async function restoreHost(before: HostSnapshot, node: NodeFootprint): Promise<string[]> {
    const problems: string[] = [];
    const step = async (what: string, fn: () => Promise<void> | void) => {
        try {
            await fn();
        } catch (e) {
            problems.push(`${what}: ${(e as Error).message.split("\n")[0]}`);
        }
    };

    await step("stopping the node's processes", async () => {
        const mine = (p: ProcessInfo) => p.cmdline.includes(node.dir) || p.cgroup.includes("kubepods");
        for (let attempt = 0; attempt < 50; attempt++) {
            const left = processes().filter((p) => p.pid !== process.pid && mine(p));
            if (left.length === 0) return;
            for (const p of left) {
                try {
                    process.kill(p.pid, "SIGKILL");
                } catch {
                    // gone meanwhile
                }
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`still running: ${processes().filter(mine).map((p) => `${p.pid} ${p.cmdline}`).join("; ")}`);
    });

    const newPaths = NODE_PATHS.filter((p) => !before.paths.includes(p));
    await step("unmounting", async () => {
        const under = [node.dir, ...newPaths];
        const targets = mounts().map((m) => m.slice(0, m.lastIndexOf(" ")))
            .filter((m) => under.some((u) => m === u || m.startsWith(`${u}/`)))
            .sort((a, b) => b.length - a.length);
        for (const m of targets) {
            const r = await run("umount", [m]);
            if (r.code !== 0) await runOk("umount", ["--lazy", m]);
        }
    });

    await step("deleting iptables chains", async () => {
        const had = new Set(before.chains);
        for (const command of IPTABLES) {
            for (const table of TABLES) {
                const saved = await saveTable(command, table);
                const added = saved.filter((l) => l.startsWith(":")).map((l) => l.slice(1).split(" ")[0])
                    .filter((c) => NODE_CHAIN.test(c) && !had.has(`${command} ${table} ${c}`));
                if (added.length === 0) continue;
                const isAdded = new Set(added);
                // Jumps into the node's chains from chains that stay (INPUT, FORWARD, ...): deleted rule by rule.
                const jumps = saved.filter((l) => {
                    const m = /^-A (\S+) .*-[jg] (\S+)/.exec(l);
                    return m !== null && !isAdded.has(m[1]) && isAdded.has(m[2]);
                }).map((l) => `-D${l.slice(2)}`);
                const script = [`*${table}`, ...jumps, ...added.map((c) => `-F ${c}`), ...added.map((c) => `-X ${c}`), "COMMIT", ""].join("\n");
                await runOk(`${command}-restore`, ["--noflush"], { input: script });
            }
        }
    });

    await step("deleting nft tables", async () => {
        for (const t of await nftTables()) {
            if (!before.nftTables.includes(t)) await runOk("nft", ["delete", ...t.split(" ").slice(1)]);
        }
    });

    await step(`deleting the bridge ${node.bridge}`, async () => {
        if (fs.existsSync(`/sys/class/net/${node.bridge}`)) await runOk("ip", ["link", "delete", node.bridge]);
    });

    await step("flushing conntrack entries", async () => {
        for (const range of node.ranges) {
            for (const flag of ["--orig-src", "--orig-dst"]) {
                const [address, bits] = range.split("/");
                // conntrack exits 1 when nothing matched.
                await run("conntrack", ["-D", "-f", "ipv4", flag, address, flag === "--orig-src" ? "--mask-src" : "--mask-dst", mask(Number(bits))]);
            }
        }
    });

    await step("removing cgroups", async () => {
        const had = new Set(before.kubepods);
        const added = cgroupDirs().filter((d) => d.includes("kubepods") && !had.has(d)).sort((a, b) => b.length - a.length);
        for (const d of added) fs.rmdirSync(path.join("/sys/fs/cgroup", d));
    });

    await step("removing paths", () => {
        for (const p of newPaths) fs.rmSync(p, { recursive: true, force: true });
    });

    await step("restoring sysctls", () => {
        for (const [name, value] of Object.entries(before.sysctls)) {
            if (readSysctl(name) !== value) fs.writeFileSync(`/proc/sys/${name}`, value);
        }
    });

    await step(`removing ${node.dir}`, () => fs.rmSync(node.dir, { recursive: true, force: true }));
    return problems;
}

function mask(bits: number): string {
    const n = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}
