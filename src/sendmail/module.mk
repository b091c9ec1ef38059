$(eval $(call program,sendmail,bin,global util))
# mailq is sendmail -bp under another name (sendmail looks at argv[0]).
$(BUILD)/bin/mailq: $(BUILD)/bin/sendmail
	$(SAY) LN $@
	$(Q)ln -sf sendmail $@
PROGRAMS += $(BUILD)/bin/mailq
