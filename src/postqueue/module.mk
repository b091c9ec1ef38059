$(eval $(call program,postqueue,bin,global util))
