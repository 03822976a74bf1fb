// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider, as upstream's
// provider/cmd/pulumi-resource-kubernetes does, with the schema and mapping files scripts/tools.sh generates.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
