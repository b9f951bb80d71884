// Package deploy holds the tests that keep the deployment files (container images,
// Compose, Kubernetes) from rotting.
package deploy
