$(eval $(call program,postfix,bin,global util))
