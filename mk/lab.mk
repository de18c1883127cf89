# mk/lab.mk - `make check-lab`: boot the QEMU lab and check it end to end
# (scripts/lab/check-lab.sh).  Needs QEMU, linux-image-amd64,
# busybox-static and ndctl, which scripts/lab/deps.sh installs when it can
# (QEMU 10.0 and Linux 6.12 from bookworm-backports).  check-lab-full also
# compares the slower topologies (two bridges, the switch, the LSA one).
.PHONY: check-lab check-lab-full
check-lab: deps
	@sh scripts/lab/deps.sh
	@$(MAKE) --no-print-directory build build-san
	@sh scripts/lab/check-lab.sh $(BS) $(B)
check-lab-full: deps
	@sh scripts/lab/deps.sh
	@$(MAKE) --no-print-directory build build-san
	@CXLEMU_LAB_FULL=1 sh scripts/lab/check-lab.sh $(BS) $(B)
