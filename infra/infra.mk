# Infra targets (CDK). Owned by the infra capability.
.PHONY: infra-setup synth
infra-setup:
	@true
synth: setup infra-setup
	@echo "synth: not built yet" && false
