module github.com/craftledger/craftledger/deploy

go 1.26.0

require (
	github.com/blang/semver/v4 v4.0.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
	sigs.k8s.io/kustomize/api v0.21.2 // indirect
	sigs.k8s.io/kustomize/kyaml v0.21.2 // indirect
)
