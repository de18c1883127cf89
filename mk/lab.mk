# mk/lab.mk - `make check-lab`: boot the QEMU lab and check it end to end
# (tests/lab.sh).  Needs QEMU, linux-image-amd64, busybox-static and
# ndctl, which scripts/lab/deps.sh installs when it can.
.PHONY: check-lab
check-lab: deps
	@sh scripts/lab/deps.sh
	@$(MAKE) --no-print-directory build build-san
	@sh scripts/lab/check-lab.sh $(BS) $(B)
