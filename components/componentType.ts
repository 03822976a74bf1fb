/**
 * The components' type tokens. They began as `hello:platform:<Component>`, after the first service; a type is part of
 * the URN of the component and of each of its children, so every component keeps an alias to its former type, and a
 * stack deployed before the rename finds its resources under the new URNs: nothing is replaced (the engine applies a
 * parent's aliases to its children).
 */
import * as pulumi from "@pulumi/pulumi";

/** The components of this repository. */
export type ComponentKind = "ServiceImage" | "ServiceRelease" | "ServiceMonitoring" | "MonitoringStack";

/** `platform:index:<kind>`: the type token of a component. */
export function componentType(kind: ComponentKind): string {
    return `platform:index:${kind}`;
}

/** The token a component had before: `hello:platform:<kind>`. */
export function formerComponentType(kind: ComponentKind): string {
    return `hello:platform:${kind}`;
}

/** `opts` with the alias to the component's former type added to any aliases the caller gives. */
export function withFormerType(kind: ComponentKind, opts: pulumi.ComponentResourceOptions = {}): pulumi.ComponentResourceOptions {
    return { ...opts, aliases: [...(opts.aliases ?? []), { type: formerComponentType(kind) }] };
}
