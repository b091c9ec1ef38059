$(eval $(call program,postconf,bin,xsasl global util))
