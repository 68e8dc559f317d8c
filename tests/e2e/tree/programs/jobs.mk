# Jobs for `make -j2`: commands make runs itself, commands it hands to a shell, a pipeline and an
# ignored failure. Silent, so the output does not depend on which job finishes first.
all: direct shell pipeline ignored
direct:
	@/bin/true
shell:
	@sh -c 'exit 0' && ls / >/dev/null
pipeline:
	@echo four | tr a-z A-Z >/dev/null
ignored:
	-@exit 3
.PHONY: all direct shell pipeline ignored
