$(eval $(call program,smtp,libexec,tls xsasl dns global util))
# lmtp is smtp under another name (smtp looks at argv[0]).
$(BUILD)/libexec/lmtp: $(BUILD)/libexec/smtp
	$(SAY) LN $@
	$(Q)ln -sf smtp $@
PROGRAMS += $(BUILD)/libexec/lmtp
