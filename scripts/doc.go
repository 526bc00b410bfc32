// Package scripts holds the files that put swap-bootstrap on machines, each
// ready to copy: EC2 user data (user-data.sh, cloud-config.yaml), ECS
// container instance user data (ecs/), Elastic Beanstalk hooks and
// .ebextensions (elasticbeanstalk/), a Packer template (packer/), an SSM
// Command document (ssm/) and the release build (build.sh). Each takes a
// release version and SHA-256 pins; tools/render-installers fills them in
// for the copies a release carries.
//
// There is no Go code here; the tests lint every file with the tool that
// reads it (shellcheck, cloud-init schema, an HCL parser, JSON and YAML
// parsers) and run the install scripts against a temporary root with the real
// binary, served from 127.0.0.1 or a file:// path.
//
// The Elastic Beanstalk confighook and .ebextensions/01-swap.config carry
// copies of .platform/hooks/prebuild/01-swap.sh, and ecs/user-data.mime a
// copy of cloud-config.yaml; after editing the hook or the cloud-config,
// refresh them with
//
//	go test ./scripts -run TestElasticBeanstalkCopies -update
package scripts
