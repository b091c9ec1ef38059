$(eval $(call program,smtpd,libexec,global util))
$(BUILD)/obj/smtpd/%.o: INCS += -Isrc/dns
