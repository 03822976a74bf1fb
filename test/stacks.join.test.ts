/**
 * Stack settings of a stack that joins a kube-prometheus-stack the cluster already runs (existingMonitoringRelease)
 * instead of installing one: what it accepts, and every key that would configure the stack it no longer installs,
 * refused by name before anything is deployed.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { INSTALLED_MONITORING_KEYS } from "../stacks/rules";
import { ROOT } from "../scripts/lib/program";
import { load, problems, rejects } from "./support/stacks";

const JOIN = { existingMonitoringRelease: "kube-prometheus-stack", monitoringNamespace: "observability" };

describe("a stack that joins an existing kube-prometheus-stack", function () {
    describe("GIVEN the release and namespace of the existing stack", function () {
        it("accepts them, with the sidecar's dashboard label defaulting to kube-prometheus-stack's grafana_dashboard: \"1\"", function () {
            const s = load("prod", JOIN).settings;
            assert.deepStrictEqual(
                [s.existingMonitoringRelease, s.monitoringNamespace, s.grafanaDashboardLabel, s.grafanaDashboardLabelValue],
                ["kube-prometheus-stack", "observability", "grafana_dashboard", "1"]);
        });

        it("leaves it unset by default: every committed environment installs its own", function () {
            for (const stack of ["dev", "staging", "prod"]) assert.strictEqual(load(stack).settings.existingMonitoringRelease, undefined, stack);
        });

        it("accepts another dashboard label, prefixed or not, and an empty value", function () {
            const s = load("staging", { ...JOIN, grafanaDashboardLabel: "example.com/dashboard", grafanaDashboardLabelValue: "" }).settings;
            assert.deepStrictEqual([s.grafanaDashboardLabel, s.grafanaDashboardLabelValue], ["example.com/dashboard", ""]);
        });

        it("holds prod to nothing about the stack it joins: no storage or Alertmanager rule, no receiver warning", function () {
            const { warnings } = load("prod", JOIN);
            assert.deepStrictEqual(warnings, []);
            assert.deepStrictEqual(load("staging", JOIN).warnings, [], "staging's missing-receiver warning is the installed stack's");
        });
    });

    describe("WHEN a new key is wrong THEN the message names the key, the value and what is allowed", function () {
        const cases: [string, Record<string, string>, RegExp][] = [
            ["a release name with capitals", { existingMonitoringRelease: "Prom" },
                /^hello-service:existingMonitoringRelease = "Prom": must be a Helm release name such as kube-prometheus-stack: lowercase letters, digits, '-' and '.', at most 53 characters$/],
            ["a release name longer than Helm allows", { existingMonitoringRelease: "a".repeat(54) },
                /^hello-service:existingMonitoringRelease = "a{54}": must be a Helm release name/],
            ["a label key with a space", { grafanaDashboardLabel: "grafana dashboard" },
                /^hello-service:grafanaDashboardLabel = "grafana dashboard": must be a Kubernetes label key such as grafana_dashboard or example.com\/dashboard$/],
            ["a label key of 64 characters", { grafanaDashboardLabel: "d".repeat(64) }, /^hello-service:grafanaDashboardLabel = "d{64}": must be a Kubernetes label key/],
            ["a label value with a slash", { grafanaDashboardLabelValue: "a/b" },
                /^hello-service:grafanaDashboardLabelValue = "a\/b": must be a Kubernetes label value such as 1 or true/],
        ];
        for (const [what, values, expected] of cases) {
            it(`rejects ${what}`, function () {
                rejects("staging", values, expected);
            });
        }
    });

    describe("WHEN it also sets a key of the stack it no longer installs", function () {
        for (const key of INSTALLED_MONITORING_KEYS.filter((k) => !["grafanaAdminPassword", "alertWebhookUrl"].includes(k))) {
            it(`refuses ${key}, naming the release it joins`, function () {
                const value = ({
                    monitoringChartRepository: "oci://registry.example.com/charts", alertmanager: "true", controlPlaneMonitoring: "true",
                    defaultDashboards: "false", nodeExporter: "true", prometheusRetention: "30d", prometheusStorage: "true",
                    prometheusStorageSize: "10Gi", storageClass: "fast", prometheusCpuRequest: "1", prometheusMemoryRequest: "1Gi",
                    prometheusMemoryLimit: "2Gi",
                } as Record<string, string>)[key];
                assert.ok(value !== undefined, `a value for ${key}`);
                rejects("prod", { ...JOIN, [key]: value }, new RegExp(`^hello-service:${key} = .+: configures the kube-prometheus-stack a stack ` +
                    "installs; this stack joins the existing release kube-prometheus-stack in namespace observability " +
                    "\\(existingMonitoringRelease\\) and installs none: remove it$"));
            });
        }

        it("refuses the Grafana password and the alert webhook, set as secrets, without printing them", function () {
            const messages = problems("prod", JOIN, { grafanaAdminPassword: "SECRET-grafana-pw", alertWebhookUrl: "https://hooks.example.com/SECRET" });
            assert.deepStrictEqual(messages.map((m) => m.split(": ")[0]), [
                "hello-service:grafanaAdminPassword = [secret]", "hello-service:alertWebhookUrl = [secret]",
            ]);
            assert.ok(!messages.join("\n").includes("SECRET"), messages.join("\n"));
        });

        it("says it once per key, even where prod's own rule about the installed stack would also object", function () {
            const messages = problems("prod", { ...JOIN, prometheusStorage: "false", alertmanager: "false" });
            assert.deepStrictEqual(messages.map((m) => m.split(" = ")[0]), ["hello-service:alertmanager", "hello-service:prometheusStorage"]);
        });

        it("keeps those keys free in a stack that installs its own", function () {
            assert.strictEqual(load("prod", { prometheusRetention: "30d" }).settings.prometheusRetention, "30d");
        });
    });

    it("Pulumi.yaml marks exactly those keys as (installed only)", function () {
        const marked = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8").split("\n")
            .filter((line) => /^  # \w+ .*\(installed only\)$/.test(line))
            .map((line) => line.split(/\s+/)[2]);
        assert.deepStrictEqual(marked.sort(), [...INSTALLED_MONITORING_KEYS].sort());
    });

    describe("npm run check-config", function () {
        let dir: string;
        before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-config-join-"))));
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        async function checkConfig(body: string): Promise<{ code: number; stdout: string; stderr: string }> {
            const file = path.join(dir, "Pulumi.staging.yaml");
            fs.writeFileSync(file, body);
            try {
                const { stdout, stderr } = await promisify(execFile)(process.execPath,
                    ["-r", "ts-node/register/transpile-only", path.join(ROOT, "stacks", "checkConfig.ts"), file], { cwd: ROOT });
                return { code: 0, stdout, stderr };
            } catch (err) {
                const e = err as { code: number; stdout: string; stderr: string };
                return { code: e.code, stdout: e.stdout, stderr: e.stderr };
            }
        }
        const base = [
            "config:",
            "  hello-service:kubeContext: staging",
            "  hello-service:registry: ghcr.io/acme",
            "  hello-service:monitoringNamespace: observability",
            "  hello-service:existingMonitoringRelease: prom",
        ];

        it("passes a stack file that joins, without the installed stack's receiver warning", async function () {
            const res = await checkConfig([...base, '  hello-service:grafanaDashboardLabelValue: "1"', ""].join("\n"));
            assert.strictEqual(res.code, 0, res.stderr);
            assert.doesNotMatch(res.stdout, /warning/);
        });

        it("fails one that keeps an encrypted webhook of the stack it installed before, naming it", async function () {
            const res = await checkConfig([...base, "  hello-service:alertWebhookUrl:", "    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBB", ""].join("\n"));
            assert.strictEqual(res.code, 1);
            assert.match(res.stderr, /hello-service:alertWebhookUrl = \[secret\]: configures the kube-prometheus-stack a stack installs; this stack joins the existing release prom in namespace observability/);
            assert.ok(!res.stderr.includes("BBBB"));
        });
    });
});
