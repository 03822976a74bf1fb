/**
 * Config namespaces: a stack's keys outside the project's own. Pulumi hands the program every key of the stack and
 * each provider reads only its own namespace, so a key nothing reads is silently ignored: `pulumi config set
 * helloservice:replicas 3` exits 0 and changes nothing. A namespace close to the project's is such a typo, and an
 * error naming the key meant; a key of any other namespace nothing here reads is a warning that it has no effect.
 *
 * What reads which namespace:
 * - `<project>:` the program (`load.ts`).
 * - `pulumi:` the Pulumi engine itself (`pulumi:disable-default-providers` in Pulumi.yaml, `pulumi:tags`, ...): it
 *   checks its own keys, so any is accepted here.
 * - `docker:` the docker provider that builds and pushes the image (`docker:host`, `docker:registryAuth`, ...), the
 *   default provider, so it reads the stack's keys; unless the stack deploys a `prebuiltImage`: nothing is built then.
 * - `kubernetes:` nothing: the default Kubernetes provider is disabled (Pulumi.yaml) and every Kubernetes resource
 *   goes through the stack's own provider, built from `<project>:kubeContext` (index.ts).
 * - `random:` nothing: the random provider (the generated Grafana password) has no settings.
 */
import { closest, distance } from "fastest-levenshtein";
import type { SettingIssue } from "./issues";
import { SETTING_KEYS, SettingKey, isSettingKey } from "./settings";

/** The setting a key name means: itself if it is one, else the nearest. */
export function meantSetting(name: string): SettingKey {
    return isSettingKey(name) ? name : (closest(name, SETTING_KEYS) as SettingKey);
}

/** A namespace without what people get wrong in a name: case, dashes, underscores, dots. */
const squashed = (namespace: string) => namespace.toLowerCase().replace(/[-_.]/g, "");

/**
 * Whether `namespace` is the project's mistyped: the same name but for case, dashes, underscores or dots, or up to
 * two letters off (fewer for a short project name, where two letters make another word).
 */
export function isNearMiss(namespace: string, project: string): boolean {
    if (namespace === project) return false;
    const target = squashed(project);
    return distance(squashed(namespace), target) <= Math.min(2, Math.floor(target.length / 4));
}

/** Issues of the stack's keys outside the project's namespace. `values` holds every key of the stack. */
export function checkNamespaces(project: string, values: Readonly<Record<string, string>>): { errors: SettingIssue[]; warnings: SettingIssue[] } {
    const errors: SettingIssue[] = [];
    const warnings: SettingIssue[] = [];
    const prebuilt = values[`${project}:prebuiltImage`] !== undefined;
    for (const key of Object.keys(values)) {
        const [namespace] = key.split(":", 1);
        const name = key.slice(namespace.length + 1);
        if (namespace === project || namespace === "pulumi" || (namespace === "docker" && !prebuilt)) continue;
        if (isNearMiss(namespace, project)) {
            errors.push({ key, message: `unknown namespace "${namespace}"; did you mean ${project}:${meantSetting(name)}?` });
        } else if (namespace === "docker") {
            warnings.push({
                key,
                message: `has no effect: this stack deploys ${project}:prebuiltImage, so no image is built and the docker provider does not run`,
            });
        } else if (namespace === "kubernetes") {
            warnings.push({
                key,
                message: `has no effect: every Kubernetes resource goes through the stack's own provider, built from ` +
                    `${project}:kubeContext (the default kubernetes provider is disabled); choose the cluster with ${project}:kubeContext`,
            });
        } else {
            warnings.push({
                key,
                message: `has no effect: nothing in this project reads "${namespace}" settings; the program reads ${project}:*, ` +
                    `the docker provider docker:* (the image build) and the Pulumi engine pulumi:*`,
            });
        }
    }
    return { errors, warnings };
}
