$(eval $(call program,smtpd,libexec,global util))
# Until the dns library is merged: its header only (the lead adds dns above).
$(BUILD)/obj/smtpd/%.o: INCS += -Isrc/dns
