/**
 * The value formats of stack settings, at their edges: for each kind of value a platform engineer writes (a Kubernetes
 * name, a host name, a CPU or memory quantity, a Go or Prometheus duration, a chart repository, a whole number, a
 * boolean), the values it accepts and the values it refuses, each refusal with the key, the value and what is allowed.
 */
import * as assert from "assert";
import { load, problems } from "./support/stacks";

interface Format {
    readonly what: string;
    readonly key: string;
    readonly message: string;
    /** Values accepted as written. */
    readonly accepts: readonly string[];
    /** Values refused, each with `message`. */
    readonly refuses: readonly string[];
}

const LABEL_63 = "n".repeat(63);
/** A host name of exactly 253 characters: the most DNS allows. */
const HOST_253 = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");

const FORMATS: readonly Format[] = [
    {
        what: "a Kubernetes name (namespace)", key: "namespace",
        message: "must be a Kubernetes name: lowercase letters, digits and '-', at most 63 characters",
        accepts: ["a", "0", "a-1", "my-namespace", LABEL_63],
        refuses: ["-a", "a-", `${LABEL_63}n`, "Hello", "a_b", "a.b", ""],
    },
    {
        what: "a DNS host name (ingressHost)", key: "ingressHost",
        message: "must be a DNS host name such as hello.example.com",
        accepts: ["a", "a.example.com", "hello.b.com", "hello-1.example.com", HOST_253],
        refuses: ["-a.example.com", "hello.example.com-", "hello..example.com", "Hello.example.com", "hello.example.com/", `${HOST_253}d`],
    },
    {
        what: "a CPU quantity (cpuRequest)", key: "cpuRequest",
        message: "must be a CPU quantity such as 100m, 0.5 or 2",
        accepts: ["100m", "2", "10", "0.5", "0.25", "1.125"],
        refuses: ["x1", "x100m", "1.1234", "1.", ".5", "-1", "100Mi", "1m5"],
    },
    {
        what: "a memory quantity (memoryLimit)", key: "memoryLimit",
        message: "must be a memory quantity such as 64Mi, 512Mi or 2Gi",
        accepts: ["512", "64Mi", "2Gi", "1G", "500M"],
        refuses: ["x64Mi", "64Mix", "64mi", "Mi", "1.5Gi", ""],
    },
    {
        what: "a Go duration (drainDelay)", key: "drainDelay",
        message: "must be a Go duration such as 500ms, 5s or 1m30s",
        accepts: ["500ms", "5s", "1m30s", "1.25s", "1h"],
        refuses: ["5", "x5s", "5sx", "1d", "1.s", "5 s"],
    },
    {
        what: "a Prometheus duration (prometheusRetention)", key: "prometheusRetention",
        message: "must be a Prometheus duration such as 6h, 7d or 2w",
        accepts: ["6h", "7d", "2w", "1y", "1d12h", "90m"],
        refuses: ["6", "x6h", "6hx", "1.5d", "6H"],
    },
    {
        what: "a chart repository (monitoringChartRepository)", key: "monitoringChartRepository",
        message: "must be a Helm repository URL (https://charts.example.com/prometheus-community) or an OCI registry path (oci://registry.example.com/charts)",
        accepts: ["https://charts.example.com/prometheus-community", "oci://registry.example.com/charts", "http://127.0.0.1:8879", "https://charts.example.com:8443"],
        refuses: ["xhttps://charts.example.com", "https://charts.example.com/a b", "https://charts.example.com?token=x", "charts.example.com", "https://Charts.example.com"],
    },
];

describe("stack settings: the value formats at their edges", function () {
    for (const f of FORMATS) {
        describe(`${f.what}`, function () {
            for (const value of f.accepts) {
                it(`accepts ${JSON.stringify(value.length > 20 ? `${value.length} characters` : value)}`, function () {
                    const settings = load("dev", { [f.key]: value }).settings as unknown as Record<string, unknown>;
                    assert.strictEqual(settings[f.key], value);
                });
            }
            for (const value of f.refuses) {
                it(`refuses ${JSON.stringify(value.length > 20 ? `${value.length} characters` : value)}, saying what is allowed`, function () {
                    assert.deepStrictEqual(problems("dev", { [f.key]: value }),
                        [`hello-service:${f.key} = ${JSON.stringify(value)}: ${f.message}`]);
                });
            }
        });
    }

    describe("a whole number (replicas, from 1 to 50)", function () {
        for (const [written, read] of [["1", 1], ["50", 50], [" 2 ", 2], ["7", 7]] as const) {
            it(`accepts ${JSON.stringify(written)} as ${read}`, function () {
                assert.strictEqual(load("dev", { replicas: written }).settings.replicas, read);
            });
        }
        const refused: [string, string][] = [
            ["0", "0"], ["51", "51"], ["-1", "-1"], ["1.5", "1.5"], ["0.5", "0.5"],
            ["three", "\"three\""], ["x2", "\"x2\""], ["2x", "\"2x\""], ["1e3", "\"1e3\""], ["1.", "\"1.\""], ["", "\"\""],
        ];
        for (const [written, shown] of refused) {
            it(`refuses ${JSON.stringify(written)}, showing it as ${shown}`, function () {
                assert.deepStrictEqual(problems("dev", { replicas: written }),
                    [`hello-service:replicas = ${shown}: must be a whole number from 1 to 50`]);
            });
        }
    });

    describe("a boolean (autoscaling)", function () {
        it("accepts true and false", function () {
            assert.strictEqual(load("dev", { autoscaling: "true" }).settings.autoscaling, true);
            assert.strictEqual(load("dev", { autoscaling: "false" }).settings.autoscaling, false);
        });
        for (const written of ["yes", "1", "True", "null", "[]"]) {
            it(`refuses ${JSON.stringify(written)}, as written`, function () {
                assert.deepStrictEqual(problems("dev", { autoscaling: written }),
                    [`hello-service:autoscaling = ${JSON.stringify(written)}: must be true or false`]);
            });
        }
    });
});
