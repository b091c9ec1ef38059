$(eval $(call program,postconf,bin,global util))
