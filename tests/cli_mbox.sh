#!/bin/sh
# cli_mbox.sh - raw mailbox commands and fault injection from the command
# line: Identify and Get Partition Info agree with the topology, wrong
# lengths and unknown opcodes get the specification's return codes (and
# exit 1 with the JSON printed), injected events land in their logs,
# injected health shows in `list -H`, set-alert-config and update-firmware
# print ndctl's JSON, and bad injections are refused with the key and the
# rule.
. "$(dirname "$0")/clilib.sh"

cat >"$T/mb.topo" <<EOT
-machine q35,cxl=on -m 2G
-object memory-backend-ram,id=vm0,size=512M
-object memory-backend-ram,id=pm0,size=256M
-object memory-backend-ram,id=lsa0,size=128K
-device pxb-cxl,id=cxl.1,bus=pcie.0,bus_nr=12
-device cxl-rp,id=rp0,bus=cxl.1,port=0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=vm0,persistent-memdev=pm0,lsa=lsa0,id=mixed0
-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
EOT
run 0 start "$T/mb.topo"

# hex bytes N..N+LEN-1 of payload_out
payload() { json_val payload_out; }
bytes() { payload | cut -c$(($1 * 2 + 1))-$((($1 + $2) * 2)); }

# Identify Memory Device: 0x45 bytes, capacities in 256 MiB units
run 0 mbox mem0 4000
out_has '"name":"Identify Memory Device"'
out_has '"rc":0'
out_has '"out_len":69'
[ "$(bytes 0 14)" = "$(printf 'BWFW VERSION 0' | od -An -tx1 | tr -d ' \n')" ] ||
	fail "firmware revision: $(bytes 0 16)"
[ "$(bytes 16 8)" = "0300000000000000" ] || fail "total capacity $(bytes 16 8)"
[ "$(bytes 24 8)" = "0200000000000000" ] || fail "volatile-only $(bytes 24 8)"
[ "$(bytes 32 8)" = "0100000000000000" ] || fail "persistent-only $(bytes 32 8)"
[ "$(bytes 40 8)" = "0000000000000000" ] || fail "partition alignment"
[ "$(bytes 56 4)" = "00000200" ] || fail "LSA size $(bytes 56 4) (want 128K)"
# the same device by its id, and by ndctl's bare number
run 0 mbox mixed0 0x4000
out_has '"memdev":"mem0"'
run 0 mbox 0 4000
out_has '"out_len":69'

# Get Partition Info: active 512 MiB volatile, 256 MiB persistent
run 0 mbox mem0 4100
[ "$(bytes 0 8)" = "0200000000000000" ] || fail "active volatile $(bytes 0 8)"
[ "$(bytes 8 8)" = "0100000000000000" ] || fail "active persistent"

# exact input lengths: one byte too many, one too few
run 1 mbox mem0 4000 00
out_has '"rc":22'
out_has '"rc_name":"invalid payload length"'
out_has '"payload_in_len":1'
out_has '"out_len":0'
run 1 mbox mem0 4102 00000000 000000
out_has '"rc":22'
# Get LSA past the end of the 128 KiB area: invalid input
run 1 mbox mem0 4102 00000200 10000000
out_has '"rc":2'
# an opcode nobody implements
run 1 mbox mem0 7f00
out_has '"rc":3'
out_has '"rc_name":"unsupported"'
out_has '"name":"unknown"'
# usage errors never reach the daemon; a missing memdev names those there
run 2 mbox mem0 zz
err_has "opcode 'zz'"
run 2 mbox mem0 10000
run 2 mbox mem0 4000 abc
err_has "whole number of bytes"
run 2 mbox mem0 4000 0g
err_has "payload: 'g' (at character 2) is not a hex digit"
run 1 mbox mem9 4000
err_has "no memdev 'mem9'"
err_has "mem0 (mixed0)"

# Get Supported Logs: one log, the CEL
run 0 mbox mem0 0400
[ "$(bytes 0 2)" = "0100" ] || fail "supported logs count $(bytes 0 2)"

# general-media and DRAM events land in the logs QMP names
run 0 inject mem0 general-media dpa=0x1000 log=warning descriptor=1 \
	type=0 transaction-type=2 channel=3 component-id=abc
out_has '"injected":"general-media"'
run 0 mbox mem0 0100 01
[ "$(bytes 20 2)" = "0100" ] || fail "warning log holds $(bytes 20 2) records"
# record 0 at 0x20: DPA at +0x30, channel at +0x3d
[ "$(bytes $((0x20 + 0x30)) 8)" = "0010000000000000" ] || fail "event DPA"
[ "$(bytes $((0x20 + 0x3d)) 1)" = "03" ] || fail "event channel"
run 0 mbox mem0 0100 00
[ "$(bytes 20 2)" = "0000" ] || fail "the informational log got a record"
run 0 inject mem0 dram dpa=0x2000 log=fatal row=0x123456 column=7 \
	correction-mask=1,2
run 0 mbox mem0 0100 03
[ "$(bytes 20 2)" = "0100" ] || fail "fatal log: $(bytes 20 2)"
[ "$(bytes $((0x20 + 0x44)) 3)" = "563412" ] || fail "DRAM row"
[ "$(bytes $((0x20 + 0x49)) 16)" = "01000000000000000200000000000000" ] ||
	fail "DRAM correction mask"

# bad injections name the key and the rule; nothing is logged
run 1 inject mem0 general-media dpa=0x1000 colour=red
err_has "unknown parameter 'colour'"
err_has "dpa, descriptor"
run 1 inject mem0 general-media dpa=0x1000 flags=256
err_has "flags=256 does not fit in its 8-bit field"
run 1 inject mem0 dram dpa=0x1000 row=0x1000000
err_has "row=0x1000000 does not fit in its 24-bit field"
run 1 inject mem0 general-media dpa=banana
err_has "dpa=banana is not an unsigned number"
run 1 inject mem0 general-media log=sometimes dpa=0
err_has "log=sometimes is not an event log"
run 1 inject mem0 general-media type=1
err_has "parameter 'dpa' is required"
run 1 inject mem0 health temperature=40000
err_has "signed 16-bit"
run 1 inject mem0 health media-status=12
err_has "media status 12"
run 1 inject mem0 meteor-strike
err_has "kinds: poison, general-media, dram, memory-module, health"
run 1 inject mem0 poison size=64
err_has "poison: unknown parameter 'size' (it takes: start, length)"
run 2 inject mem0 health life-used
err_has "'life-used' is not KEY=VALUE"
run 2 inject mem0 health life-used=1 life-used=2
err_has "given twice"
run 1 inject mem0 poison start=0x1001
err_has "multiples of 64"
run 0 mbox mem0 0100 01
[ "$(bytes 20 2)" = "0100" ] || fail "a refused injection was logged"

# health: list -H shows it, the alert config turns it into warnings
run 0 list -M -m mem0 -H
out_has '"media_normal":true'
out_has '"life_used_percent":0'
out_has '"temperature":25'
run 0 inject mem0 health life-used=50 temperature=-5 dirty-shutdown-count=3 \
	health-status=1 media-status=2 corrected-volatile-error-count=9
run 0 list -M -m mem0 -H
out_has '"maintenance_needed":true'
out_has '"media_normal":false'
out_has '"media_persistence_lost":true'
out_has '"life_used_percent":50'
out_has '"temperature":-5'
out_has '"dirty_shutdowns":3'
out_has '"volatile_errors":9'
out_has '"ext_life_used":"normal"'
out_has '"ext_temperature":"critical"'
run 0 set-alert-config mem0 -L 45 --life-used-alert=on
out_has '"life_used_prog_warn_threshold_valid":true'
out_has '"life_used_prog_warn_threshold":45'
err_has "^cxl memdev: cmd_set_alert_config: set alert configuration 1 mem$"
run 0 list -M -m mem0 -H
out_has '"ext_life_used":"warning"'
run 0 set-alert-config mem0 --life-used-alert=off
out_has '"life_used_prog_warn_threshold_valid":false'
run 1 set-alert-config mem0 -L 80 --life-used-alert=on
err_has "invalid input"
run 1 set-alert-config mem0 -L 30
err_has "action not specified"
run 1 set-alert-config mem0 --over-temperature-alert=on
err_has "threshold not specified"
run 1 set-alert-config mem0 -L 101 --life-used-alert=on
err_has "invalid life used threshold: 101"
# a memory-module event changes the health and logs the change
run 0 inject mem0 memory-module log=failure type=1 life-used=70 temperature=30
run 0 list -M -m mem0 -H
out_has '"life_used_percent":70'
out_has '"temperature":30'
out_has '"dirty_shutdowns":3'
run 0 mbox mem0 0100 02
[ "$(bytes 20 2)" = "0100" ] || fail "failure log: $(bytes 20 2)"
[ "$(bytes $((0x20 + 0x34)) 1)" = "46" ] || fail "event life used"

# partitions of a fixed device: Identify's view, no Get Partition Info
run 0 list -M -m mem0 -I
out_has '"total_size":805306368'
out_has '"volatile_only_size":536870912'
out_has '"partition_alignment_size":0'
out_lacks "active_volatile_size"
run 1 set-partition mem0 -t ram -s 256M
err_has "no available capacity"

# firmware: a two-part image goes to slot 2, staged for the next reset
head -c 3000 /dev/urandom >"$T/fw.img"
run 0 update-firmware mem0 -F "$T/fw.img"
out_has '"staged_slot":2'
out_has '"slot_2_version":"cxlemu-'
out_has '"fw_update_in_progress":false'
err_has "^cxl memdev: cmd_update_fw: firmware update started on 1 mem device$"
run 0 list -M -m mem0 -F
out_has '"active_slot":1'
out_has '"slot_1_version":"BWFW VERSION 0"'
run 1 update-firmware mem0 -F "$T/nonexistent.img"
err_has "nonexistent.img"
echo "cli_mbox: ok"
