/**
 * The components as the program wires them, under Pulumi's mocks: what each Helm release, Secret and namespace gets,
 * and the stack outputs the platform team reads. Two runs in all: prod with a longer Helm timeout, and dev.
 */
import * as assert from "assert";
import { parse } from "yaml";
import { CapturedResource, configuredStack, isSecretValue, ProgramRun, runProgram, stackConfig, TEST_SECRETS } from "../scripts/lib/program";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";

/** A Secret's stringData, out of the secret wrapper the whole map gets when any value in it is secret. */
function stringData(secret: CapturedResource): Record<string, unknown> {
    const data = secret.inputs.stringData;
    assert.ok(isSecretValue(data), `${secret.name}'s data reaches the Secret as a Pulumi secret`);
    return data.value as Record<string, unknown>;
}

function one(run: ProgramRun, type: string, name: string): CapturedResource {
    const found = run.resources.filter((r) => r.type === type && r.name === name);
    assert.strictEqual(found.length, 1, `expected one ${type} named ${name}, found ${found.length}`);
    return found[0];
}

describe("the components under mocks", function () {
    let prod: ProgramRun;
    let dev: ProgramRun;

    before(async function () {
        const { secretKeys, values } = configuredStack("prod");
        const prodConfig = stackConfig("prod", {
            values: { "hello-service:registryUsername": "ci-bot", "hello-service:helmTimeout": "900" },
            secrets: Object.fromEntries([...secretKeys].map((k) => [k, values[k]])),
        });
        [prod, dev] = await Promise.all([runProgram(prodConfig), runProgram(configuredStack("dev"))]);
        assert.strictEqual(prod.error, undefined);
        assert.strictEqual(dev.error, undefined);
    });

    it("makes every Helm release atomic and cleans up a failed upgrade, so a bad deploy rolls back", function () {
        const releases = prod.resources.filter((r) => r.type === RELEASE);
        assert.deepStrictEqual(releases.map((r) => r.name).sort(), ["hello", "hello-dashboards", "monitoring"]);
        for (const release of releases) {
            assert.strictEqual(release.inputs.atomic, true, release.name);
            assert.strictEqual(release.inputs.cleanupOnFail, true, release.name);
        }
    });

    it("gives kube-prometheus-stack the stack's helmTimeout", function () {
        assert.strictEqual(one(prod, RELEASE, "monitoring").inputs.timeout, 900);
        assert.strictEqual(one(dev, RELEASE, "monitoring").inputs.timeout, 600);
    });

    it("installs the dashboards as release <name>-dashboards, nulls kept, and the rules as PrometheusRule <name>-rules", function () {
        const dashboards = one(prod, RELEASE, "hello-dashboards").inputs;
        assert.strictEqual(dashboards.name, "hello-dashboards");
        assert.strictEqual(dashboards.allowNullValues, true);
        assert.strictEqual(dashboards.values.labels["app.kubernetes.io/part-of"], "hello");
        const rule = one(prod, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "hello-rules").inputs;
        assert.strictEqual(rule.metadata.name, "hello-rules");
        assert.strictEqual(rule.metadata.labels["app.kubernetes.io/part-of"], "hello");
    });

    it("keeps Grafana's admin login in an Opaque Secret: user admin, the password secret", function () {
        const secret = one(prod, SECRET, "monitoring-grafana-admin");
        assert.strictEqual(secret.inputs.type, "Opaque");
        assert.deepStrictEqual(stringData(secret), {
            "admin-user": "admin", "admin-password": TEST_SECRETS["hello-service:grafanaAdminPassword"],
        });
    });

    it("installs kube-prometheus-stack only after Grafana's and Alertmanager's Secrets exist", function () {
        const deps = one(prod, RELEASE, "monitoring").dependencies;
        for (const secret of ["monitoring-grafana-admin", "monitoring-alertmanager-config"]) {
            assert.ok(deps.some((urn) => urn.endsWith(`${SECRET}::${secret}`)), `${secret} in ${deps.join(", ")}`);
        }
    });

    it("generates a 24-character Grafana password without special characters when none is set", function () {
        const password = one(dev, "random:index/randomPassword:RandomPassword", "monitoring-grafana-admin").inputs;
        assert.strictEqual(password.length, 24);
        assert.strictEqual(password.special, false);
    });

    it("puts alertmanager.yaml, webhook URL and all, in an Opaque Secret as a secret", function () {
        const secret = one(prod, SECRET, "monitoring-alertmanager-config");
        assert.strictEqual(secret.inputs.type, "Opaque");
        assert.strictEqual(secret.inputs.metadata.name, "alertmanager-config");
        const data = stringData(secret);
        assert.deepStrictEqual(Object.keys(data), ["alertmanager.yaml"]);
        assert.strictEqual(parse(data["alertmanager.yaml"] as string).receivers[1].webhook_configs[0].url,
            TEST_SECRETS["hello-service:alertWebhookUrl"]);
    });

    it("tells how to reach Grafana and the service: their Ingress URL, or the port-forward command", function () {
        assert.strictEqual(prod.outputs.grafanaAccess.value, "http://grafana.internal.example.com");
        assert.strictEqual(prod.outputs.serviceAccess.value, "http://hello.example.com");
        assert.strictEqual(dev.outputs.grafanaAccess.value,
            "kubectl --namespace monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80, then http://localhost:3000");
        assert.strictEqual(dev.outputs.serviceAccess.value,
            "kubectl --namespace hello port-forward svc/hello 8080:80, then http://localhost:8080");
    });

    it("labels the namespaces as Pulumi's, enforcing the latest Pod Security Standards", function () {
        for (const name of ["hello", "monitoring"]) {
            const labels = one(prod, "kubernetes:core/v1:Namespace", name).inputs.metadata.labels;
            assert.strictEqual(labels["app.kubernetes.io/managed-by"], "pulumi", name);
            assert.strictEqual(labels["pod-security.kubernetes.io/enforce-version"], "latest", name);
        }
    });

    it("keeps one pod up through a node drain, and leaves the Ingress off without an ingressHost", function () {
        assert.deepStrictEqual(one(prod, RELEASE, "hello").inputs.values.podDisruptionBudget, { enabled: true, maxUnavailable: 1 });
        assert.deepStrictEqual(one(dev, RELEASE, "hello").inputs.values.ingress, { enabled: false });
    });
});
